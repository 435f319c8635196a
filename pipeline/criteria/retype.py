"""A span classifier that re-decides the type of each entity the NER found.

spaCy's transition-based NER (Lample et al. 2016) chooses an entity's type
with the move that opens it, at its first token, before it has read the rest
of the span: "Contralateral phrenic nerve palsy" is typed at "Contralateral",
"carfilzomib" by a window of neighbours. A maximum-entropy span classifier
(multinomial logistic regression over sparse binary features of the whole
span, as in the span-typing stage of two-stage NER systems, e.g. Collins &
Singer 1999) reads the span's words, its last word's suffixes and its
neighbours, and replaces the NER's type when it gives another type a
probability of at least ``threshold``. Spans are never moved or dropped,
only re-typed, so recall of the extents stays the NER's.

It is trained on the gold spans of the same training part as the NER (the
flat subset :func:`pipeline.criteria.ner.choose_spans` teaches), and saved
inside the NER's model directory as the pipe ``span_retyper``, so the model
loads and scores as one unit.

The estimator follows scikit-learn's contract (``__init__`` stores the
parameters, ``fit`` returns ``self``, learned state ends in ``_``); scoring
reads the saved weights only (a sum of the rows of the span's features), so
tagging needs no scikit-learn call per entity.
"""

# No ``from __future__ import annotations`` here: spaCy validates a factory's
# arguments against its annotations at run time, which must be real types.
import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

PIPE_NAME = "span_retyper"
_STATE_FILE = "retyper.json"
_WEIGHTS_FILE = "weights.npy"
_SUFFIXES = (2, 3, 4, 5)


def span_features(doc: Doc, start: int, end: int) -> list[str]:
    """Binary features of the tokens ``doc[start:end]``: each word, the first
    and last word, the last word's 2-5 letter suffixes, the two words before
    and the word after, the length in tokens (5 = five or more), the first and
    last word's shape, and whether a number is inside."""
    # Indexing the Doc per token is cheaper than slicing a Span out of it.
    tokens = [doc[i] for i in range(start, end)]
    words = [token.lower_ for token in tokens]
    last = words[-1]
    features = [f"w={word}" for word in words]
    features += [f"first={words[0]}", f"last={last}"]
    features += [f"suffix{k}={last[-k:]}" for k in _SUFFIXES if len(last) > k]
    features += [
        f"before={doc[start - 1].lower_ if start > 0 else '<s>'}",
        f"before2={doc[start - 2].lower_ if start > 1 else '<s>'}",
        f"after={doc[end].lower_ if end < len(doc) else '</s>'}",
        f"length={min(end - start, 5)}",
        f"first_shape={tokens[0].shape_}",
        f"last_shape={tokens[-1].shape_}",
    ]
    if any(token.like_num for token in tokens):
        features.append("number")
    return features


class SpanRetyper(BaseEstimator, ClassifierMixin):
    """Multinomial logistic regression (L2, strength ``1 / C``) over
    :func:`span_features`; :meth:`retype` keeps the NER's type unless another
    type reaches probability ``threshold``."""

    def __init__(self, C: float = 1.0, threshold: float = 0.5) -> None:
        self.C = C
        self.threshold = threshold

    def fit(self, spans: Sequence[Sequence[str]], y: Sequence[str]) -> Self:
        """Learn weights from the features of gold spans and their types."""
        # Imported here: scoring needs only the saved weights.
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = DictVectorizer()
        matrix = vectorizer.fit_transform([dict.fromkeys(f, 1.0) for f in spans])
        model = LogisticRegression(C=self.C, max_iter=2000, random_state=0)
        model.fit(matrix, np.asarray(y))
        self.classes_ = model.classes_
        self.features_ = {
            name: i for i, name in enumerate(vectorizer.get_feature_names_out())
        }
        coef, intercept = model.coef_, model.intercept_
        if len(self.classes_) == 2:
            # scikit-learn keeps one row for two classes (the log-odds of the
            # second); a zero row for the first gives the same softmax.
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros_like(intercept), intercept])
        # A last zero row for the features never seen in training. Weights are
        # saved as float32 (half the size); rounding them here too makes a
        # fitted retyper score exactly as the one loaded from disk.
        unseen = np.zeros((1, len(self.classes_)))
        self.coef_ = np.vstack([coef.T, unseen]).astype(np.float32).astype(np.float64)
        self.intercept_ = intercept.astype(np.float32).astype(np.float64)
        return self

    def predict_proba(self, spans: Sequence[Sequence[str]]) -> np.ndarray:
        """Type probabilities per span (columns in ``classes_`` order)."""
        scores = self._scores(spans)
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, spans: Sequence[Sequence[str]]) -> np.ndarray:
        """The most probable type of each span."""
        return self.classes_[self._scores(spans).argmax(axis=1)]

    def retype(
        self, labels: Sequence[str], spans: Sequence[Sequence[str]]
    ) -> list[str]:
        """Each span's label, or the classifier's type when that is another
        type with probability at least ``threshold``."""
        if not spans:
            return []
        scores = self._scores(spans)
        best = scores.argmax(axis=1)
        # The softmax probability of the best type alone.
        top = scores[np.arange(len(best)), best]
        sure = 1.0 / np.exp(scores - top[:, None]).sum(axis=1) >= self.threshold
        types = self.classes_[best].tolist()
        return [
            new if confident else label
            for label, new, confident in zip(labels, types, sure.tolist(), strict=True)
        ]

    def _scores(self, spans: Sequence[Sequence[str]]) -> np.ndarray:
        # One gather and one segmented sum for all the spans at once; every
        # span has features, and an unseen one reads the last (zero) row.
        index = self.features_
        unseen = repeat(len(index))
        rows: list[int] = []
        starts: list[int] = []
        for features in spans:
            starts.append(len(rows))
            rows.extend(map(index.get, features, unseen))
        return self.intercept_ + np.add.reduceat(self.coef_[rows], starts, axis=0)

    def to_disk(self, directory: Path) -> None:
        """Parameters, types and feature names as JSON; weights as ``.npy``."""
        directory.mkdir(parents=True, exist_ok=True)
        state = {
            "params": self.get_params(),
            "classes": [str(c) for c in self.classes_],
            "intercept": [float(b) for b in self.intercept_],
            "features": sorted(self.features_, key=self.features_.__getitem__),
        }
        (directory / _STATE_FILE).write_text(
            json.dumps(state, indent=0, sort_keys=True) + "\n", "utf-8"
        )
        weights = self.coef_.astype(np.float32)
        np.save(directory / _WEIGHTS_FILE, weights, allow_pickle=False)

    @classmethod
    def from_disk(cls, directory: Path) -> Self:
        """The retyper :meth:`to_disk` saved under ``directory``."""
        state = json.loads((directory / _STATE_FILE).read_text("utf-8"))
        retyper = cls(**state["params"])
        retyper.classes_ = np.array(state["classes"])
        retyper.intercept_ = np.array(state["intercept"], dtype=np.float64)
        retyper.features_ = {name: i for i, name in enumerate(state["features"])}
        weights = np.load(directory / _WEIGHTS_FILE, allow_pickle=False)
        retyper.coef_ = weights.astype(np.float64)
        return retyper


def retype_docs(docs: Sequence[Doc], retyper: SpanRetyper) -> None:
    """Re-type the entities of ``docs`` in place, as
    :meth:`SpanRetyper.retype` decides, all in one call; extents unchanged."""
    # doc.ents builds its Spans at every read, so each is read once.
    entities = [doc.ents for doc in docs]
    labels = iter(
        retyper.retype(
            [ent.label_ for ents in entities for ent in ents],
            [
                span_features(doc, ent.start, ent.end)
                for doc, ents in zip(docs, entities, strict=True)
                for ent in ents
            ],
        )
    )
    for doc, ents in zip(docs, entities, strict=True):
        retyped = [(ent, next(labels)) for ent in ents]
        # Most types stand, and setting doc.ents rewrites every token's tag.
        if any(label != ent.label_ for ent, label in retyped):
            doc.ents = [Span(doc, ent.start, ent.end, label) for ent, label in retyped]


class SpanRetyperComponent:
    """The pipe: re-types ``doc.ents`` with a fitted :class:`SpanRetyper`,
    which it saves and loads with the model; ``pipe`` scores a whole batch
    of Docs in one call."""

    def __init__(self, retyper: SpanRetyper | None = None) -> None:
        self.retyper = retyper

    def __call__(self, doc: Doc) -> Doc:
        if self.retyper is not None:
            retype_docs([doc], self.retyper)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            if self.retyper is not None:
                retype_docs(batch, self.retyper)
            yield from batch

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        if self.retyper is not None:
            self.retyper.to_disk(Path(path))

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> Self:
        self.retyper = SpanRetyper.from_disk(Path(path))
        return self


@Language.factory("trialmatch_span_retyper")
def make_span_retyper(nlp: Language, name: str) -> SpanRetyperComponent:
    """An unfitted retyper pipe; its weights come with the model (``from_disk``)
    or from :func:`pipeline.criteria.ner.add_span_retyper`."""
    return SpanRetyperComponent()
