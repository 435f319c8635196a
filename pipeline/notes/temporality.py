"""A learned historical-temporality detector that complements ConText's rules.

ConText (Harkema et al., J Biomed Inform 2009) marks a mention historical only
when a trigger ("history of", "status post") is in its sentence. Many
historical mentions in clinical text have none: a bare past-medical-history
list item ("HYPERTENSION."), "the patient's known ...", "chronically
elevated". Following the statistical assertion classifiers of the 2010
i2b2/VA challenge (Uzuner et al., JAMIA 2011), a logistic regression over
bag-of-words features of the mention's context (the words just before and
after it, the words of the mention, the words of its sentence near it, the
sentence's shape, and whether a ConText historical rule fired) scores the
mention. ``historical`` = ConText rule OR probability > the threshold that
maximised F1 in a cross-validation on the training rows.

The estimator follows scikit-learn's contract (``__init__`` stores the
parameters, ``fit`` returns ``self``, learned state ends in ``_``) and is saved
as plain JSON (feature -> weight), loaded offline with no unpickling.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from pipeline import errors

DEFAULT_MODEL_DIR = (
    Path(__file__).resolve().parents[2] / "models" / "context_temporality"
)
MODEL_FILE = "model.json"
TRAIN_COMMAND = "trialmatch train context --negex ../shared/data/negex-dev.tsv"
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(4, 19))
CV_FOLDS = 5

_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class MentionContext:
    """A mention in its sentence: ``text[sentence_start:sentence_end]`` holds
    the target ``text[start:end]``; ``rule_historical`` is ConText's verdict."""

    text: str
    sentence_start: int
    sentence_end: int
    start: int
    end: int
    rule_historical: bool


def mention_features(
    mention: MentionContext, window: int, reach: int
) -> dict[str, float]:
    """Binary features of one mention: ``b:``/``a:`` the ``window`` words
    before/after it, ``t:`` its words, ``s:`` the words of its sentence within
    ``reach`` characters (bounded, so a huge one-line note stays linear), the
    sentence's shape (a bare item, all capitals) and ConText's rule verdict."""
    m = mention
    low = max(m.sentence_start, m.start - reach)
    high = min(m.sentence_end, m.end + reach)
    before = _WORD.findall(m.text, low, m.start)
    after = _WORD.findall(m.text, m.end, high)
    features = {"rule": float(m.rule_historical)}
    for word in before[-window:]:
        features["b:" + word.lower()] = 1.0
    for word in after[:window]:
        features["a:" + word.lower()] = 1.0
    for word in _WORD.findall(m.text, m.start, m.end):
        features["t:" + word.lower()] = 1.0
        if len(word) > 5:
            features["ts:" + word[-4:].lower()] = 1.0
    for word in before + after:
        features["s:" + word.lower()] = 1.0
    letters = [c for c in m.text[low:high] if c.isalpha()]
    upper = bool(letters) and all(c.isupper() for c in letters)
    bare = not before and not after
    features["upper"] = float(upper)
    features["bare"] = float(bare)
    features["bare_upper"] = float(bare and upper)
    features["short"] = float(len(before) + len(after) <= 2)
    return features


class HistoricalClassifier(BaseEstimator, ClassifierMixin):
    """Logistic regression (L2, balanced classes) over
    :func:`mention_features`; ``threshold`` turns probabilities into labels."""

    def __init__(
        self, C: float = 3.0, window: int = 6, reach: int = 300, threshold: float = 0.5
    ) -> None:
        self.C = C
        self.window = window
        self.reach = reach
        self.threshold = threshold

    def _features(self, mentions: Sequence[MentionContext]) -> list[dict[str, float]]:
        return [mention_features(m, self.window, self.reach) for m in mentions]

    def fit(
        self, mentions: Sequence[MentionContext], y: Sequence[bool]
    ) -> HistoricalClassifier:
        """Learn the weights from mentions and their gold historical flag."""
        # Imported here: scoring needs only the saved weights, not these.
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = DictVectorizer()
        matrix = vectorizer.fit_transform(self._features(mentions))
        model = LogisticRegression(
            C=self.C, max_iter=5000, class_weight="balanced", random_state=0
        ).fit(matrix, np.asarray(y, dtype=bool))
        self.classes_ = model.classes_
        self.weights_ = {
            name: float(w)
            for name, w in zip(
                vectorizer.get_feature_names_out(), model.coef_[0], strict=True
            )
            if w != 0.0
        }
        self.intercept_ = float(model.intercept_[0])
        return self

    def decision_function(self, mentions: Sequence[MentionContext]) -> np.ndarray:
        """Log-odds of historical for each mention (sparse dot product)."""
        weights = self.weights_
        return np.array(
            [
                self.intercept_
                + sum(weights.get(k, 0.0) * v for k, v in features.items())
                for features in self._features(mentions)
            ]
        )

    def predict_proba(self, mentions: Sequence[MentionContext]) -> np.ndarray:
        """``[P(not historical), P(historical)]`` per mention."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(mentions)))
        return np.column_stack([1.0 - p, p])

    def predict(self, mentions: Sequence[MentionContext]) -> np.ndarray:
        """Historical when ConText's rule fired or P(historical) > threshold."""
        rule = np.array([m.rule_historical for m in mentions], dtype=bool)
        if not len(mentions):
            return rule
        return rule | (self.predict_proba(mentions)[:, 1] > self.threshold)


def cv_fold(key: str, folds: int = CV_FOLDS) -> int:
    """The cross-validation fold of a training row (a hash of its key)."""
    return int(hashlib.sha256(("cv:" + key).encode("utf-8")).hexdigest(), 16) % folds


def _f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    tp = int((predicted & gold).sum())
    wrong = int((predicted ^ gold).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold F1 per threshold, and of ConText's rules alone."""

    rule_f1: float
    f1_by_threshold: dict[float, float]

    @property
    def best_threshold(self) -> float:
        return max(self.f1_by_threshold, key=lambda t: (self.f1_by_threshold[t], t))


def cross_validate(
    mentions: Sequence[MentionContext],
    y: Sequence[bool],
    keys: Sequence[str],
    classifier: HistoricalClassifier,
) -> CrossValidation:
    """K-fold (by hash of ``keys``) out-of-fold F1 of rule-OR-model for each
    candidate threshold."""
    gold = np.asarray(y, dtype=bool)
    folds = np.array([cv_fold(k) for k in keys])
    proba = np.zeros(len(mentions))
    for k in range(CV_FOLDS):
        train = [i for i in range(len(mentions)) if folds[i] != k]
        held = [i for i in range(len(mentions)) if folds[i] == k]
        model = HistoricalClassifier(**classifier.get_params()).fit(
            [mentions[i] for i in train], gold[train]
        )
        proba[held] = model.predict_proba([mentions[i] for i in held])[:, 1]
    rule = np.array([m.rule_historical for m in mentions], dtype=bool)
    return CrossValidation(
        rule_f1=_f1(rule, gold),
        f1_by_threshold={t: _f1(rule | (proba > t), gold) for t in THRESHOLDS},
    )


def save_classifier(classifier: HistoricalClassifier, directory: Path) -> Path:
    """Write the parameters and learned weights as JSON under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    state = {
        "params": classifier.get_params(),
        "intercept": classifier.intercept_,
        "weights": dict(sorted(classifier.weights_.items())),
    }
    path.write_text(json.dumps(state, indent=0, sort_keys=True) + "\n", "utf-8")
    return path


def load_classifier(directory: Path | None = None) -> HistoricalClassifier:
    """The saved classifier (default ``models/context_temporality``)."""
    path = (DEFAULT_MODEL_DIR if directory is None else directory) / MODEL_FILE
    if not path.is_file():
        raise errors.model_missing(path, TRAIN_COMMAND)
    state = json.loads(path.read_text("utf-8"))
    classifier = HistoricalClassifier(**state["params"])
    classifier.weights_ = {k: float(v) for k, v in state["weights"].items()}
    classifier.intercept_ = float(state["intercept"])
    classifier.classes_ = np.array([False, True])
    return classifier


@cache
def default_classifier() -> HistoricalClassifier:
    """The packaged classifier, loaded once per process."""
    return load_classifier()
