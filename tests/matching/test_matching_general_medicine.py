"""General-medicine criteria: vital signs and drug-class quantities."""

from __future__ import annotations

import pytest
from matching_builders import crit, ent, fact, limit, run

from pipeline.schema import Criterion, NoteFact


def status(criterion: Criterion, *facts: NoteFact) -> str:
    return run(criterion, *facts, sex="female", age=40)[0].status


HEART_RATE = crit(
    "inc-1",
    kind="inclusion",
    text="Heart rate of at least 90/min",
    entities=[ent("heart_rate")],
    values=[limit("heart_rate", ">=", 90, "/min")],
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ([fact("heart_rate", value=112, unit="bpm", text="HR 112")], "met"),
        ([fact("heart_rate", value=87, unit="bpm", text="pulse is 87/min")], "not_met"),
        ([fact("copd")], "unknown"),
    ],
    ids=["tachycardic", "normal-rate", "no-rate"],
)
def test_heart_rate_limit_per_minute_meets_bpm(
    facts: list[NoteFact], expected: str
) -> None:
    assert status(HEART_RATE, *facts) == expected


# "at least 7 %" on an antipsychotic is a quantity the notes must report,
# not a count of antipsychotic drugs (one drug is not "7 or more").
WEIGHT_GAIN = crit(
    "inc-2",
    kind="inclusion",
    text="weight gain of at least 7% after starting an antipsychotic",
    entities=[ent("antipsychotic")],
    values=[limit("antipsychotic", ">=", 7, "%")],
)
TWO_ANTIHYPERTENSIVES = crit(
    "exc-1",
    text="Hypertension treated with two or more antihypertensive drugs",
    entities=[ent("antihypertensive")],
    values=[limit("antihypertensive", ">=", 2)],
)


@pytest.mark.parametrize(
    ("criterion", "facts", "expected"),
    [
        (WEIGHT_GAIN, [fact("antipsychotic", text="olanzapine")], "unknown"),
        (
            TWO_ANTIHYPERTENSIVES,
            [fact("metoprolol"), fact("amlodipine")],
            "met",
        ),
        (TWO_ANTIHYPERTENSIVES, [fact("metoprolol")], "not_met"),
    ],
    ids=["percentage-is-no-count", "two-drugs", "one-drug"],
)
def test_only_unitless_class_limits_count_members(
    criterion: Criterion, facts: list[NoteFact], expected: str
) -> None:
    assert status(criterion, *facts) == expected


# Closed world is for what notes would mention: an unreported lab is not normal.
OBESITY_LIMIT = crit(
    "exc-2",
    text="BMI > 40 kg/m2",
    entities=[ent("body_mass_index")],
    values=[limit("body_mass_index", ">", 40, "kg/m2")],
)
RENAL_DISEASE = crit(
    "exc-3",
    text="Severe renal disease (serum creatinine of more than 250 umol/L)",
    entities=[ent("chronic_kidney_disease"), ent("creatinine")],
    values=[limit("creatinine", ">", 250, "umol/L")],
)


@pytest.mark.parametrize(
    ("criterion", "facts", "expected"),
    [
        (OBESITY_LIMIT, [], "unknown"),
        (OBESITY_LIMIT, [fact("body_mass_index", value=32, unit="kg/m2")], "not_met"),
        (OBESITY_LIMIT, [fact("body_mass_index", value=44, unit="kg/m2")], "met"),
        (RENAL_DISEASE, [], "not_met"),
    ],
    ids=["no-bmi", "bmi-32", "bmi-44", "condition-never-mentioned"],
)
def test_value_only_exclusion_stays_open_without_a_value(
    criterion: Criterion, facts: list[NoteFact], expected: str
) -> None:
    assert status(criterion, *facts) == expected


def test_pregnancy_beside_a_closed_world_concept_is_read_as_absent() -> None:
    criterion = crit(
        "exc-5",
        text="Pregnancy or active tuberculosis",
        entities=[ent("pregnancy"), ent("tuberculosis")],
    )
    assert status(criterion, fact("copd")) == "not_met"
