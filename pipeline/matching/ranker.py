"""The score that orders patients within a verdict.

Features (one row per patient-trial pair, from the top-level criteria):

====================  =========================================================
``inc_met``           fraction of applicable inclusions that are met
``inc_not_met``       fraction of applicable inclusions that are not met
``inc_unknown``       fraction of applicable inclusions left unknown
``exc_met``           fraction of applicable exclusions that are met
``exc_not_met``       fraction of applicable exclusions ruled out
``exc_unknown``       fraction of applicable exclusions left unknown
``exc_possible``      number of exclusions possibly met (uncertain/conflicting)
``not_applicable``    fraction of all criteria that do not apply to the patient
``evidence``          log(1 + evidence items over all criteria)
====================  =========================================================

:class:`PatientRanker` is a logistic regression calibrated with Platt scaling
(``CalibratedClassifierCV``, Platt 1999) predicting "the patient is a
candidate"; it follows the scikit-learn estimator contract and is stored with
joblib under ``models/ranker/``. Without a model file, :func:`fallback_score` is
used: the fraction of applicable criteria decided in the patient's favour
(inclusions met + exclusions ruled out) / (applicable criteria), minus 0.1 per
possibly-met exclusion, clipped to [0, 1].
"""

from __future__ import annotations

import math
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.matching.verdict import possibly_excludes
from pipeline.schema import CriterionAssessment

FEATURES: tuple[str, ...] = (
    "inc_met",
    "inc_not_met",
    "inc_unknown",
    "exc_met",
    "exc_not_met",
    "exc_unknown",
    "exc_possible",
    "not_applicable",
    "evidence",
)
MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "ranker"
MODEL_FILE = MODEL_DIR / "ranker.joblib"


def features(top_level: list[CriterionAssessment]) -> list[float]:
    """The feature row of one patient (see the module docstring)."""
    inc = {"met": 0, "not_met": 0, "unknown": 0, "not_applicable": 0}
    exc = dict(inc)
    evidence = possible = 0
    for a in top_level:
        (inc if a.kind == "inclusion" else exc)[a.status] += 1
        if a.evidence:  # most records have none: skip the count
            evidence += len(a.evidence)
            if a.status == "unknown":
                possible += possibly_excludes(a)
    n_inc = max(inc["met"] + inc["not_met"] + inc["unknown"], 1)
    n_exc = max(exc["met"] + exc["not_met"] + exc["unknown"], 1)
    na = inc["not_applicable"] + exc["not_applicable"]
    return [
        inc["met"] / n_inc,
        inc["not_met"] / n_inc,
        inc["unknown"] / n_inc,
        exc["met"] / n_exc,
        exc["not_met"] / n_exc,
        exc["unknown"] / n_exc,
        float(possible),
        na / max(len(top_level), 1),
        math.log1p(evidence),
    ]


def fallback_score(row: list[float] | np.ndarray) -> float:
    """Transparent score without a model (formula in the module docstring)."""
    f = dict(zip(FEATURES, row, strict=True))
    n_inc = f["inc_met"] + f["inc_not_met"] + f["inc_unknown"]
    n_exc = f["exc_met"] + f["exc_not_met"] + f["exc_unknown"]
    favour = (f["inc_met"] + f["exc_not_met"]) / max(n_inc + n_exc, 1e-9)
    return float(min(1.0, max(0.0, favour - 0.1 * f["exc_possible"])))


class PatientRanker(ClassifierMixin, BaseEstimator):
    """Calibrated logistic regression: P(candidate | criterion-outcome features)."""

    def __init__(self, C: float = 1.0, cv: int = 3) -> None:
        self.C = C
        self.cv = cv

    def fit(self, X: np.ndarray, y: np.ndarray) -> PatientRanker:
        """Fit on feature rows ``X`` and labels ``y`` (1 = candidate)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        base = make_pipeline(StandardScaler(), LogisticRegression(C=self.C))
        self.model_ = CalibratedClassifierCV(base, cv=self.cv, method="sigmoid")
        self.model_.fit(X, y)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(np.asarray(X, dtype=float))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def load_ranker(path: Path = MODEL_FILE) -> PatientRanker | None:
    """The trained ranker at ``path``, or None when none has been trained."""
    if not path.is_file():
        return None
    model = joblib.load(path)
    if getattr(model, "n_features_in_", None) != len(FEATURES):
        return None
    return model


def score_rows(rows: np.ndarray, ranker: PatientRanker | None) -> np.ndarray:
    """One score per feature row: the ranker's P(candidate), else the fallback."""
    if len(rows) == 0:
        return np.zeros(0)
    if ranker is None:
        return np.array([fallback_score(r) for r in rows])
    return ranker.predict_proba(rows)[:, list(ranker.classes_).index(1)]
