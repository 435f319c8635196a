"""Evaluation of the assertion stage on a NegEx-format test set.

The NegEx/ConText test set (Chapman et al. 2001; Harkema et al. 2009) gives one
sentence per row with one annotated condition and its negation status,
temporality (Recent / Historical / "Not particular" = hypothetical) and
experiencer. Each condition is located in its sentence, made the only target
mention, and asserted by the sentence splitter, sectionizer and ConText of
:mod:`pipeline.notes.engine` (or by medspaCy's default pipeline, for a
side-by-side baseline). Negated, historical and hypothetical are scored with
precision, recall and F1.

The development file is split once, deterministically, by a hash of each row's
line number: ``test`` (30 %) is held out, rules are tuned on ``train`` only,
and the historical classifier of :mod:`pipeline.notes.temporality` is trained
(its threshold chosen by 5-fold cross-validation) on ``train`` only.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pipeline import errors
from pipeline.textio import read_user_text

if TYPE_CHECKING:
    from spacy.tokens import Span

    from pipeline.notes.temporality import (
        CrossValidation,
        HistoricalClassifier,
        MentionContext,
    )

Split = Literal["all", "train", "test"]
SCORED = ("negated", "historical", "hypothetical")
TEST_PERCENT = 30
_COLUMNS = 6
NEGEX_LIMIT_BYTES = 50_000_000


@dataclass(frozen=True)
class NegexRow:
    """One annotated sentence of a NegEx-format file."""

    line: str
    condition: str
    sentence: str
    negated: bool
    historical: bool
    hypothetical: bool

    def gold(self) -> frozenset[str]:
        """The scored modifiers the annotators gave the condition."""
        flags = zip(
            SCORED, (self.negated, self.historical, self.hypothetical), strict=True
        )
        return frozenset(name for name, on in flags if on)


@dataclass(frozen=True)
class Score:
    """Precision, recall and F1 of one modifier."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def split_of(line: str) -> Literal["train", "test"]:
    """The fixed split a row belongs to: a hash of its line-number column."""
    digest = int(hashlib.sha256(line.strip().encode("utf-8")).hexdigest(), 16)
    return "test" if digest % 100 < TEST_PERCENT else "train"


def read_negex(path: Path, split: Split = "all") -> list[NegexRow]:
    """Rows of a NegEx TSV (header: line number, Condition, sentence,
    negation_status, temporality, experiencer), restricted to ``split``."""
    text = read_user_text(path, NEGEX_LIMIT_BYTES)
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None or len(header) < _COLUMNS:
        raise errors.bad_negex(path, 1, "the header needs 6 tab-separated columns")
    rows = []
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < _COLUMNS:
            raise errors.bad_negex(path, number, f"{len(fields)} columns, not 6")
        line, condition, sentence, negation, temporality = fields[:5]
        if not condition.strip() or not sentence.strip():
            raise errors.bad_negex(path, number, "empty condition or sentence")
        if split != "all" and split_of(line) != split:
            continue
        rows.append(
            NegexRow(
                line=line,
                condition=condition,
                sentence=sentence,
                negated=negation.strip().lower() == "negated",
                historical=temporality.strip().lower() == "historical",
                hypothetical=temporality.strip().lower()
                in ("not particular", "hypothetical"),
            )
        )
    return rows


def locate(condition: str, sentence: str) -> tuple[int, int]:
    """Character span of ``condition`` in ``sentence``: case- and
    spacing-insensitive; else its longest leading run of words found; else
    the whole sentence (a few rows annotate text beyond their sentence)."""
    words = condition.split()
    for size in range(len(words), 0, -1):
        pattern = r"\s+".join(re.escape(w) for w in words[:size])
        found = re.search(pattern, sentence, re.IGNORECASE)
        if found is not None:
            return found.start(), found.end()
    return 0, len(sentence)


def row_assertions(
    rows: Sequence[NegexRow],
) -> list[tuple[Span, frozenset[str], MentionContext]]:
    """Each row's condition as the only target of its sentence, asserted by
    our sentence splitter, sectionizer and ConText rules."""
    from pipeline.notes.context import context_assertions, load_context_rules
    from pipeline.notes.engine import build_context_nlp

    nlp = build_context_nlp()
    rules = load_context_rules()
    out = []
    for row in rows:
        doc = nlp(row.sentence)
        start, end = locate(row.condition, row.sentence)
        span = doc.char_span(start, end, label="target", alignment_mode="expand")
        out.extend(context_assertions(doc, [span], rules))
    return out


def predict_trialmatch(
    rows: Sequence[NegexRow], temporality: HistoricalClassifier | None = None
) -> list[frozenset[str]]:
    """Modifiers from our sentence splitter, sectionizer, ConText and (by
    default the packaged) learned temporality classifier."""
    from pipeline.notes.context import apply_assertions
    from pipeline.notes.temporality import default_classifier

    classifier = default_classifier() if temporality is None else temporality
    asserted = row_assertions(rows)
    apply_assertions(asserted, classifier)
    return [span._.modifiers for span, _, _ in asserted]


def train_temporality(
    rows: Sequence[NegexRow], directory: Path
) -> tuple[Path, CrossValidation]:
    """Fit the historical classifier on ``rows`` (the train part): the
    threshold is the one with the best out-of-fold F1 of a 5-fold
    cross-validation on those rows; then fit on all of them and save."""
    from pipeline.notes.temporality import (
        HistoricalClassifier,
        cross_validate,
        save_classifier,
    )

    contexts = [context for _, _, context in row_assertions(rows)]
    gold = [row.historical for row in rows]
    cv = cross_validate(contexts, gold, [r.line for r in rows], HistoricalClassifier())
    classifier = HistoricalClassifier(threshold=cv.best_threshold).fit(contexts, gold)
    return save_classifier(classifier, directory), cv


def predict_medspacy(rows: Sequence[NegexRow]) -> list[frozenset[str]]:
    """Modifiers from medspaCy's default pipeline (PyRuSH + default ConText)."""
    import medspacy
    from loguru import logger

    logger.remove()
    nlp = medspacy.load()
    context = nlp.get_pipe("medspacy_context")
    sentences = nlp.get_pipe("medspacy_pyrush")
    out = []
    for row in rows:
        doc = sentences(nlp.make_doc(row.sentence))
        start, end = locate(row.condition, row.sentence)
        span = doc.char_span(start, end, label="target", alignment_mode="expand")
        doc.ents = [span]
        context(doc)
        span = doc.ents[0]
        flags = {
            "negated": span._.is_negated,
            "historical": span._.is_historical,
            "hypothetical": span._.is_hypothetical,
        }
        out.append(frozenset(k for k, v in flags.items() if v))
    return out


def score(
    rows: Sequence[NegexRow], predicted: list[frozenset[str]]
) -> dict[str, Score]:
    """P/R/F1 counts of each scored modifier."""
    pairs = [(r.gold(), p) for r, p in zip(rows, predicted, strict=True)]
    scores = {}
    for name in SCORED:
        tp = sum(name in p and name in g for g, p in pairs)
        fp = sum(name in p and name not in g for g, p in pairs)
        fn = sum(name not in p and name in g for g, p in pairs)
        scores[name] = Score(tp, fp, fn)
    return scores


def summary_line(scores: dict[str, Score], n: int, prefix: str = "context") -> str:
    """``context: negated_f1=0.xxx historical_f1=0.xxx hypothetical_f1=0.xxx n=N``."""
    figures = " ".join(f"{name}_f1={scores[name].f1:.3f}" for name in SCORED)
    return f"{prefix}: {figures} n={n}"


def report_lines(scores: dict[str, Score], system: str) -> list[str]:
    """One line per modifier with its counts and P/R/F1."""
    return [
        f"{system:<11} {name:<12} P={s.precision:.3f} R={s.recall:.3f} "
        f"F1={s.f1:.3f} (tp={s.tp} fp={s.fp} fn={s.fn})"
        for name, s in scores.items()
    ]
