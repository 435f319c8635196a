"""A learned reading of criterion-vs-summary judgements (TrialGPT's expert labels).

The rule-based assessment (:mod:`pipeline.matching.assess`) reads a chart closed
world: an exclusion nothing in the notes bears on is ruled out. Experts judging
one short patient summary do not always: an unaddressed lab limit is often "not
enough information", and a criterion whose words the summary states outright
can be met though our vocabulary has no concept for it. :class:`LabelModel`
learns, from expert judgements, how to turn our assessment plus plain text
evidence into one of four statuses (``met``, ``not_met``, ``unknown``,
``not_applicable``), which :data:`pipeline.matching.trialgpt.LABELS` maps to
TrialGPT's six labels. It is used by ``trialmatch eval trialgpt`` only; the
``match`` verdict stays rule-based.

Features of one (criterion, summary) judgement (:func:`judgement_features`):

=====================  ========================================================
``exclusion``          1 for an exclusion criterion, 0 for an inclusion
``rule_<status>``      one-hot of the rule-based status (4 features)
``overlap``            fraction of the criterion's content words in the summary
``overlap_best``       the same, for the best-matching summary sentence alone
``best_negated``       a ConText negation trigger in that sentence
``exc_<feature>``      each feature above times ``exclusion`` (7 features)
=====================  ========================================================

Content words are lower-cased alphanumeric tokens of at least three characters
outside scikit-learn's English stop-word list, compared by their first six
characters (a crude stemmer: "pregnant"/"pregnancy"). Negation triggers are the
notes stage's ConText rules (Harkema et al. 2009). Richer features (evidence
modifiers, entity domains, value limits, sex-specific criteria, absence words,
IDF-weighted overlap) were tried and did not help in cross-validation.

:class:`LabelModel` is a multinomial logistic regression on standardised
features (scikit-learn estimator contract), stored with joblib under
``models/trialgpt_labels/``; ``trialmatch train trialgpt-labels`` rebuilds it
from the train part of the TrialGPT file. It re-reads only what the rules could
not settle: a ``not_applicable`` (sex) and an inclusion's ``not_met`` (a
measured value or stated age out of range) are kept as the rules decided.
"""

from __future__ import annotations

import re
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.notes.context import find_triggers, load_context_rules

STATUSES: tuple[str, ...] = ("met", "not_met", "unknown", "not_applicable")
_BASE: tuple[str, ...] = (
    *(f"rule_{s}" for s in STATUSES),
    "overlap",
    "overlap_best",
    "best_negated",
)
FEATURES: tuple[str, ...] = ("exclusion", *_BASE, *(f"exc_{f}" for f in _BASE))
_EXCLUSION = FEATURES.index("exclusion")
_RULE = [FEATURES.index(f"rule_{s}") for s in STATUSES]
MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "trialgpt_labels"
MODEL_FILE = MODEL_DIR / "label_model.joblib"

_WORD = re.compile(r"[a-z0-9]+")
_NUMBERED = re.compile(r"^\s*\d+\.\s+")
_STEM = 6


def content_words(text: str) -> frozenset[str]:
    """Stemmed content words of ``text`` (module docstring)."""
    return frozenset(
        w[:_STEM]
        for w in _WORD.findall(text.lower())
        if len(w) >= 3 and w not in ENGLISH_STOP_WORDS and not w.isdigit()
    )


def summary_sentences(note: str) -> list[str]:
    """The sentences of a summary: one per line, TrialGPT's "3. " numbering cut."""
    return [_NUMBERED.sub("", line) for line in note.splitlines() if line.strip()]


def _triggers(sentence: str) -> set[str]:
    return {
        t.rule.category
        for t in find_triggers(sentence, 0, len(sentence), load_context_rules())
    }


def judgement_features(
    kind: str, text: str, status: str, sentences: list[str]
) -> list[float]:
    """The feature row of one judgement, in the order of :data:`FEATURES`.

    ``text`` is the criterion, ``status`` the rules' status for it and
    ``sentences`` the summary's (:func:`summary_sentences`).
    """
    words = content_words(text)
    note_words = [content_words(s) for s in sentences]
    everywhere = frozenset().union(*note_words)
    best_i, best = -1, 0.0
    for i, sentence_words in enumerate(note_words):
        share = len(words & sentence_words) / len(words) if words else 0.0
        if share > best:
            best_i, best = i, share
    cues = _triggers(sentences[best_i]) if best_i >= 0 else set()
    base = [
        *(float(status == s) for s in STATUSES),
        len(words & everywhere) / len(words) if words else 0.0,
        best,
        float("negated" in cues),
    ]
    exclusion = float(kind == "exclusion")
    return [exclusion, *base, *(exclusion * x for x in base)]


class LabelModel(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression from judgement features to a status.

    ``C`` is the inverse regularisation strength; ``class_weight`` is passed to
    :class:`~sklearn.linear_model.LogisticRegression` ("balanced" weights the
    rare statuses up, which macro-F1 rewards).
    """

    def __init__(self, C: float = 0.03, class_weight: str | None = None) -> None:
        self.C = C
        self.class_weight = class_weight

    def fit(self, X: np.ndarray, y: np.ndarray) -> LabelModel:
        """Standardise the features and fit the regression."""
        self.pipeline_: Pipeline = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=5000),
        )
        self.pipeline_.fit(X, y)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable status of each row, or the rules' where they settle it.

        A ``not_applicable`` and an inclusion's ``not_met`` rest on the
        patient's sex or a measured value: the rules' status is kept.
        """
        X = np.asarray(X, dtype=float)
        predicted = self.pipeline_.predict(X).astype(object)
        rules = np.array(STATUSES, dtype=object)[X[:, _RULE].argmax(axis=1)]
        kept = (rules == "not_applicable") | (
            (rules == "not_met") & (X[:, _EXCLUSION] == 0)
        )
        predicted[kept] = rules[kept]
        return predicted


def load_label_model(path: Path = MODEL_FILE) -> LabelModel | None:
    """The trained model, or None when none has been trained."""
    if not path.is_file():
        return None
    return joblib.load(path)
