"""Fit the patient ranker on labelled patient-trial pairs (``trialmatch train ranker``).

A pairs CSV has one row per labelled pair: ``trial`` (listing path), ``notes``
and ``persons`` (archive paths), ``as_of`` (YYYY-MM-DD), ``person_id`` and
``label`` (1 = the patient is a candidate for the trial, 0 = not). Relative
paths are read from the repository root. Each archive is run through the full
pipeline once; the features of :mod:`pipeline.matching.ranker` are computed
from the assessments and the calibrated model is saved under ``models/ranker/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import cross_val_score

from pipeline import errors
from pipeline.matching.match import match_trial
from pipeline.matching.ranker import (
    FEATURES,
    MODEL_DIR,
    MODEL_FILE,
    PatientRanker,
    features,
)

ROOT = MODEL_DIR.parents[1]
COLUMNS = ("trial", "notes", "persons", "as_of", "person_id", "label")


def _read_pairs(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise errors.file_not_found(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise errors.bad_ranker_pairs(path, "no rows")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise errors.bad_ranker_pairs(path, f"missing column(s) {', '.join(missing)}")
    for i, row in enumerate(rows, start=1):
        if row["label"] not in ("0", "1"):
            raise errors.bad_ranker_pairs(path, f"row {i} label {row['label']!r}")
    return rows


def pair_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of every labelled pair in ``path``."""
    from pipeline.criteria import parse_trial
    from pipeline.notes import extract_facts, read_notes

    rows = _read_pairs(path)
    X, y = [], []
    groups: dict[tuple[str, str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        key = (row["trial"], row["notes"], row["persons"], row["as_of"])
        groups.setdefault(key, []).append(row)
    for (trial_path, notes_path, persons_path, as_of), pairs in groups.items():
        trial = parse_trial(ROOT / trial_path)
        notes = read_notes(str(ROOT / notes_path), persons=str(ROOT / persons_path))
        matches = match_trial(
            trial,
            extract_facts(notes.notes),
            notes.persons,
            dt.date.fromisoformat(as_of),
            ranker=None,
        )
        top = {c.id for c in trial.criteria}
        by_person = {m.person_id: m for m in matches}
        for row in pairs:
            match = by_person.get(row["person_id"])
            if match is None:
                raise errors.bad_ranker_pairs(path, f"{row['person_id']} has no facts")
            X.append(features([a for a in match.criteria if a.criterion_id in top]))
            y.append(int(row["label"]))
    return np.array(X, dtype=float), np.array(y, dtype=int)


def train(path: Path, out: Path = MODEL_FILE) -> str:
    """Fit :class:`PatientRanker` on the pairs, save it, and say how it did."""
    X, y = pair_features(path)
    cv = int(min(3, np.bincount(y, minlength=2).min()))
    if cv < 2:
        raise errors.bad_ranker_pairs(path, "need at least 2 pairs of each label")
    ranker = PatientRanker(C=1.0, cv=cv)
    accuracy = cross_val_score(PatientRanker(C=1.0, cv=cv), X, y, cv=cv).mean()
    ranker.fit(X, y)
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(ranker, out)
    meta = {
        "features": list(FEATURES),
        "pairs": len(y),
        "positives": int(y.sum()),
        "cv_folds": cv,
        "cv_accuracy": round(float(accuracy), 3),
        "params": ranker.get_params(),
        "trained_from": str(path),
        "command": "trialmatch train ranker --pairs " + str(path),
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return (
        f"ranker: {len(y)} pairs ({int(y.sum())} candidates), {cv}-fold CV "
        f"accuracy {accuracy:.3f}; saved {out}"
    )
