"""TrialGPT evaluation plumbing: label map, by-patient split, scores; bench facts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from matching_builders import AS_OF
from test_matching_verdict import TRIAL

from pipeline.errors import TrialmatchError
from pipeline.matching import match_trial
from pipeline.matching.bench import synthetic_facts
from pipeline.matching.trialgpt import (
    LABELS,
    TrialGPTResult,
    format_report,
    in_test,
    judgements,
    load_rows,
    scores,
)


@pytest.mark.parametrize(
    ("kind", "status", "label"),
    [
        ("inclusion", "met", "included"),
        ("inclusion", "not_met", "not included"),
        ("inclusion", "unknown", "not enough information"),
        ("exclusion", "met", "excluded"),
        ("exclusion", "not_met", "not excluded"),
        ("exclusion", "not_applicable", "not applicable"),
    ],
)
def test_label_map(kind: str, status: str, label: str) -> None:
    assert LABELS[kind][status] == label


def test_scores_macro_f1_over_gold_labels() -> None:
    gold = ["included", "included", "not excluded", "excluded"]
    ours = ["included", "not included", "not excluded", "not excluded"]
    accuracy, macro = scores(gold, ours)
    assert accuracy == 0.5
    # F1: included 2/3, not excluded 2/3, excluded 0 -> mean over the 3 gold labels.
    assert macro == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_report_ends_with_the_score_line() -> None:
    result = TrialGPTResult(
        "test", ["inclusion", "exclusion"], ["included", "excluded"],
        ["included", "not excluded"], ["p1", "p2"],
    )  # fmt: skip
    last = format_report(result).splitlines()[-1]
    assert re.fullmatch(r"trialgpt: accuracy=0\.500 macro_f1=0\.\d{3} n=2", last)


def test_the_interval_resamples_patients_not_judgements() -> None:
    # One patient all right, one all wrong: a resample draws whole patients,
    # so accuracy can only be 0, 1/2 or 1, and all three are drawn.
    gold = ["included"] * 4
    result = TrialGPTResult(
        "test", ["inclusion"] * 4, gold,
        ["included", "included", "not included", "not included"],
        ["p1", "p1", "p2", "p2"],
    )  # fmt: skip
    (low, high), _ = result.interval(resamples=200)
    assert (low, high) == (0.0, 1.0)
    same = TrialGPTResult(
        "test", ["inclusion"] * 4, gold, gold, ["p1", "p1", "p2", "p2"]
    )
    assert same.interval(resamples=50)[0] == (1.0, 1.0)


def test_split_is_by_patient_and_deterministic(shared_data: Path) -> None:
    path = shared_data / "trialgpt-criterion-dev.json"
    test = load_rows(path, "test")
    train = load_rows(path, "train")
    assert not {r["patient_id"] for r in test} & {r["patient_id"] for r in train}
    assert 0.3 <= len(test) / (len(test) + len(train)) <= 0.4
    assert all(in_test(r["patient_id"]) for r in test)


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "not JSON"), ("[]", "non-empty"), ('[{"note": "x"}]', "lacks")],
)
def test_bad_annotation_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(content)
    with pytest.raises(TrialmatchError, match=message):
        load_rows(path, "all")


def test_bad_split_name(shared_data: Path) -> None:
    with pytest.raises(TrialmatchError, match="--split"):
        load_rows(shared_data / "trialgpt-criterion-dev.json", "dev")


def test_bench_facts_are_note_nlp_shaped_and_matchable() -> None:
    facts = synthetic_facts(TRIAL, 50)
    assert len(facts) == 50 * 12
    matches = match_trial(TRIAL, facts, {}, AS_OF, ranker=None)
    assert len(matches) == 50
    assert json.loads(matches[0].to_json())["trial_id"] == "NCT-TEST"


def row(kind: str, criterion: str, note: str, **fields: str) -> dict[str, str]:
    """One row of a TrialGPT criterion-level file (the label is unused here)."""
    return {
        "patient_id": "p",
        "note": note,
        "criterion_type": kind,
        "criterion_text": criterion,
        "expert_eligibility": "not enough information",
        **fields,
    }


# The closing sentence of every TrialGPT patient summary.
CONSENTED = (
    "0. A 60-year-old man with COPD. 1. The patient will provide informed "
    "consent, and will comply with the trial protocol without any practical issues."
)
SILENT = "0. A 60-year-old man with COPD."


@pytest.mark.parametrize(
    ("criterion", "note", "status"),
    [
        # Regressions from the train part: a consent exclusion met by consent.
        ("Unwilling or unable to give written informed consent", CONSENTED, "not_met"),
        ("Refusal to sign the consent", CONSENTED, "not_met"),
        ("No written consent", CONSENTED, "not_met"),
        ("Signed informed consent", CONSENTED, "met"),
        # Silence does not exclude (closed world for exclusions).
        ("Unwilling or unable to give written informed consent", SILENT, "not_met"),
    ],
)
def test_an_exclusion_asking_for_absence(
    criterion: str, note: str, status: str
) -> None:
    kind = "inclusion" if criterion.startswith("Signed") else "exclusion"
    assert judgements([row(kind, criterion, note)])[0].assessment.status == status


PREGNANT = "0. A 27-year-old woman, pregnant at 12 weeks of gestation."


@pytest.mark.parametrize(
    ("trial_inclusion", "status"),
    [
        # Regression from the train part: in a trial of pregnant women the
        # exclusion is about thalassemia, not pregnancy.
        ("Pregnant women", "not_met"),
        # Without that context pregnancy is what the exclusion names.
        ("Age 18 or older", "met"),
    ],
)
def test_an_exclusion_is_read_in_its_trials_context(
    trial_inclusion: str, status: str
) -> None:
    rows = [
        row(kind, text, PREGNANT, trial_id="NCT-1")
        for kind, text in [
            ("inclusion", trial_inclusion),
            ("exclusion", "pregnancy women affected by beta thalassemia"),
        ]
    ]
    assert judgements(rows)[1].assessment.status == status


@pytest.mark.parametrize(
    ("kind", "criterion", "note", "status"),
    [
        # Regression from the train part: the patient's own bipolar disorder is
        # not a parent's.
        (
            "inclusion",
            "At least one parent diagnosed with bipolar disorder",
            "0. A 20-year-old man with bipolar disorder.",
            "unknown",
        ),
        (
            "inclusion",
            "At least one parent diagnosed with bipolar disorder",
            "0. A 20-year-old man. 1. His mother has bipolar disorder.",
            "met",
        ),
        (
            "exclusion",
            "Family history of stroke",
            "0. A 60-year-old man. 1. His father had a stroke at 70.",
            "met",
        ),
        (
            "exclusion",
            "Family history of stroke",
            "0. A 60-year-old man who had a stroke in 2019.",
            "not_met",
        ),
    ],
)
def test_a_criterion_about_a_relative_reads_family_history(
    kind: str, criterion: str, note: str, status: str
) -> None:
    assert judgements([row(kind, criterion, note)])[0].assessment.status == status
