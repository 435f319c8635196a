"""Verdicts, the deciding criterion, ranking and the ranker's estimator contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from matching_builders import AS_OF, crit, ent, fact, frame, limit, window

from pipeline.matching import deciding, match_trial
from pipeline.matching.ranker import (
    FEATURES,
    PatientRanker,
    fallback_score,
    features,
    load_ranker,
)
from pipeline.schema import PatientMatch, Person, Trial

TRIAL = Trial(
    trial_id="NCT-TEST",
    source_format="text",
    criteria=[
        crit("inc-1", kind="inclusion", entities=[ent("colorectal_cancer")]),
        crit("inc-5", kind="inclusion", values=[limit("ecog", "between", 0, None, 1)]),
        crit(
            "exc-2",
            entities=[ent("thrombosis"), ent("pulmonary_embolism")],
            time_windows=[window(182.6, "within 6 months")],
        ),
        crit(
            "exc-10",
            combine="any",
            sub_criteria=[
                crit("exc-10.1", entities=[ent("myocardial_infarction")]),
                crit(
                    "exc-10.2",
                    entities=[ent("antihypertensive")],
                    values=[limit("antihypertensive", ">=", 2)],
                ),
            ],
        ),
    ],
)

PATIENTS = {
    "good": [fact("colorectal_cancer"), fact("ecog", value=1)],
    "ecog2": [fact("colorectal_cancer"), fact("ecog", value=2)],
    "maybe_pe": [
        fact("colorectal_cancer"),
        fact("ecog", value=0),
        fact("pulmonary_embolism", uncertain=True),
    ],
    "two_bp_drugs": [
        fact("colorectal_cancer"),
        fact("ecog", value=1),
        fact("amlodipine"),
        fact("lisinopril"),
    ],
    "sparse": [fact("colorectal_cancer")],
}
EXPECTED = {
    "good": ("candidate", None),
    "ecog2": ("excluded", "inc-5"),
    "maybe_pe": ("review", "exc-2"),
    "two_bp_drugs": ("excluded", "exc-10.2"),
    "sparse": ("candidate", None),
}


@pytest.fixture(scope="module")
def matches() -> list[PatientMatch]:
    rows = [
        f.model_copy(update={"person_id": pid, "note_id": f"{pid}-n1"})
        for pid, facts in PATIENTS.items()
        for f in facts
    ]
    persons = {"good": Person(person_id="good", birth_date=dt.date(1960, 5, 1))}
    return match_trial(TRIAL, frame(*rows), persons, AS_OF, ranker=None)


@pytest.mark.parametrize("person_id", list(EXPECTED))
def test_verdict_and_deciding(matches: list[PatientMatch], person_id: str) -> None:
    m = next(m for m in matches if m.person_id == person_id)
    assert (m.verdict, deciding(m, TRIAL)) == EXPECTED[person_id]


def test_order_is_verdict_then_score(matches: list[PatientMatch]) -> None:
    order = [m.person_id for m in matches]
    assert order == ["good", "sparse", "maybe_pe", "ecog2", "two_bp_drugs"]
    rank = {"candidate": 0, "review": 1, "excluded": 2}
    keys = [(rank[m.verdict], -m.score) for m in matches]
    assert keys == sorted(keys)


def test_every_criterion_and_sub_criterion_is_reported(
    matches: list[PatientMatch],
) -> None:
    ids = [a.criterion_id for a in matches[0].criteria]
    assert ids == ["inc-1", "inc-5", "exc-2", "exc-10", "exc-10.1", "exc-10.2"]


def test_json_round_trip(matches: list[PatientMatch]) -> None:
    for m in matches:
        assert PatientMatch.from_json(m.to_json()) == PatientMatch.model_validate(
            m.model_dump()
        )


def test_fallback_score_formula() -> None:
    # 3 of 4 inclusions met, 1 unknown; 10 exclusions ruled out, 2 unknown, 1 possible.
    row = dict.fromkeys(FEATURES, 0.0)
    row.update(inc_met=0.75, inc_unknown=0.25, exc_not_met=10 / 12, exc_unknown=2 / 12)
    row["exc_possible"] = 1.0
    expected = (0.75 + 10 / 12) / 2 - 0.1
    assert fallback_score(list(row.values())) == pytest.approx(expected)


def test_ranker_follows_the_estimator_contract(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((40, len(FEATURES)))
    y = (X[:, 0] > 0.5).astype(int)
    ranker = PatientRanker(C=0.5, cv=3)
    assert ranker.get_params() == {"C": 0.5, "cv": 3}
    assert ranker.fit(X, y) is ranker
    assert hasattr(ranker, "model_") and hasattr(ranker, "classes_")
    proba = ranker.predict_proba(X)
    assert proba.shape == (40, 2) and np.allclose(proba.sum(axis=1), 1)
    assert proba[y == 1, 1].mean() > proba[y == 0, 1].mean()
    import joblib

    path = tmp_path / "ranker.joblib"
    joblib.dump(ranker, path)
    assert np.allclose(load_ranker(path).predict_proba(X), proba)


def test_no_model_file_means_fallback(tmp_path) -> None:
    assert load_ranker(tmp_path / "absent.joblib") is None


def test_features_are_documented(matches: list[PatientMatch]) -> None:
    top = [a for a in matches[0].criteria if "." not in a.criterion_id]
    assert len(features(top)) == len(FEATURES)
