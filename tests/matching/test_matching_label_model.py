"""The learned reading of TrialGPT judgements: features, estimator, saved model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from pipeline.matching.label_model import (
    FEATURES,
    MODEL_FILE,
    STATUSES,
    LabelModel,
    content_words,
    judgement_features,
    load_label_model,
    summary_sentences,
)
from pipeline.matching.trialgpt import LABELS, load_rows, train_label_model


def _feature(row: list[float], name: str) -> float:
    return row[FEATURES.index(name)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Pregnant or breast feeding women", {"pregna", "breast", "feedin", "women"}),
        ("No history of COPD", {"histor", "copd"}),
        ("Age >= 18 years", {"age", "years"}),
        ("the and of", set()),
    ],
)
def test_content_words(text: str, words: set[str]) -> None:
    assert content_words(text) == words


def test_summary_sentences_cut_the_numbering() -> None:
    note = "0. A 58-year-old woman.\n1. She denies smoking.\n\n"
    assert summary_sentences(note) == ["A 58-year-old woman.", "She denies smoking."]


@pytest.mark.parametrize(
    ("kind", "text", "note", "overlap_best", "best_negated"),
    [
        (
            "inclusion",
            "Chronic obstructive pulmonary disease",
            "0. A 70-year-old man.\n1. He has chronic obstructive pulmonary disease.",
            1.0,
            0.0,
        ),
        (
            "exclusion",
            "History of smoking or diabetes",
            "0. A 58-year-old woman.\n1. She denies smoking or diabetes.",
            2 / 3,
            1.0,
        ),
        (
            "exclusion",
            "Prisoners",
            "0. A 40-year-old man with chest pain.",
            0.0,
            0.0,
        ),
    ],
)
def test_judgement_features(
    kind: str, text: str, note: str, overlap_best: float, best_negated: float
) -> None:
    row = judgement_features(kind, text, "unknown", summary_sentences(note))
    assert len(row) == len(FEATURES)
    assert _feature(row, "overlap_best") == pytest.approx(overlap_best)
    assert _feature(row, "best_negated") == best_negated
    assert _feature(row, "rule_unknown") == 1.0
    assert _feature(row, "exclusion") == float(kind == "exclusion")
    # Interaction features are zero for inclusions, copies for exclusions.
    assert _feature(row, "exc_overlap_best") == pytest.approx(
        overlap_best if kind == "exclusion" else 0.0
    )


def _toy() -> tuple[np.ndarray, np.ndarray]:
    rows, y = [], []
    cases = [
        ("inclusion", "met", 1.0, "met"),
        ("inclusion", "unknown", 0.0, "unknown"),
        ("exclusion", "met", 0.0, "not_met"),
        ("exclusion", "not_met", 0.0, "not_met"),
        ("exclusion", "not_applicable", 0.0, "not_applicable"),
        ("inclusion", "not_met", 0.0, "not_met"),
    ]
    for kind, status, overlap, label in cases * 4:
        row = judgement_features(kind, "word", status, [])
        row[FEATURES.index("overlap_best")] = overlap
        rows.append(row)
        y.append(label)
    return np.array(rows), np.array(y, dtype=object)


def test_label_model_follows_the_estimator_contract() -> None:
    X, y = _toy()
    model = LabelModel(C=1.0)
    assert model.fit(X, y) is model
    assert set(model.classes_) == set(y)
    assert clone(model).get_params() == {"C": 1.0, "class_weight": None}
    assert not hasattr(clone(model), "pipeline_")
    assert set(model.predict(X)) <= set(STATUSES)


@pytest.mark.parametrize(
    ("kind", "status"),
    [("exclusion", "not_applicable"), ("inclusion", "not_applicable"),
     ("inclusion", "not_met")],
)  # fmt: skip
def test_label_model_keeps_what_the_rules_settle(kind: str, status: str) -> None:
    X, _ = _toy()
    # Trained to answer "unknown" to everything, it still keeps these statuses.
    model = LabelModel().fit(X, np.array(["unknown", "met"] * (len(X) // 2)))
    row = np.array([judgement_features(kind, "word", status, [])])
    assert model.predict(row)[0] == status


def test_saved_model_matches_the_features() -> None:
    model = load_label_model()
    if model is None:
        pytest.skip(f"{MODEL_FILE} not trained")
    assert model.pipeline_.n_features_in_ == len(FEATURES)
    meta = json.loads(MODEL_FILE.with_suffix(".json").read_text())
    assert meta["features"] == list(FEATURES)


def test_missing_model_is_none(tmp_path: Path) -> None:
    assert load_label_model(tmp_path / "absent.joblib") is None


@pytest.mark.slow
def test_training_reads_the_train_part_only(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "trialgpt-criterion-dev.json"
    out = tmp_path / "label_model.joblib"
    message = train_label_model(path, out)
    meta = json.loads(out.with_suffix(".json").read_text())
    train = load_rows(path, "train")
    assert meta["judgements"] == len(train)
    assert meta["patients"] == len({r["patient_id"] for r in train})
    assert f"accuracy {meta['cv_accuracy']:.3f}" in message
    model = load_label_model(out)
    assert model is not None
    assert set(model.classes_) <= set(LABELS["inclusion"])
