"""Entity-level scoring of an extractor against BRAT gold, strict and relaxed.

The measure of the Chia papers (Kury et al. 2020; Fu et al. 2023 for the
transformer baselines): an entity is a (type, start, end) triple.

* strict: a prediction is correct when a gold entity has the same type and
  exactly the same character span;
* relaxed: a prediction is correct when a gold entity has the same type and an
  overlapping span. Pairs are matched one-to-one (a maximum bipartite matching,
  Kuhn's augmenting paths), so one long prediction covering three gold
  mentions counts once, not three times.

Precision = correct / predicted, recall = correct / gold, F1 their harmonic
mean; the micro average pools the counts of every type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Mention:
    """A typed character span ``[start, end)`` of one document."""

    label: str
    start: int
    end: int

    def overlaps(self, other: Mention) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass
class Counts:
    """Matched and total mentions of one type (or of all types pooled)."""

    n_gold: int = 0
    n_pred: int = 0
    strict: int = 0
    relaxed: int = 0

    def add(self, other: Counts) -> None:
        self.n_gold += other.n_gold
        self.n_pred += other.n_pred
        self.strict += other.strict
        self.relaxed += other.relaxed


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 of one count of correct predictions."""

    precision: float
    recall: float
    f1: float


def prf(correct: int, n_pred: int, n_gold: int) -> PRF:
    """P/R/F1 with the convention that an empty denominator gives 0."""
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1)


def strict_matches(gold: Iterable[Mention], pred: Iterable[Mention]) -> int:
    """Number of predictions equal to a gold mention (type and span)."""
    return len(set(gold) & set(pred))


def relaxed_matches(gold: Sequence[Mention], pred: Sequence[Mention]) -> int:
    """Size of a maximum one-to-one matching of same-type overlapping mentions.

    Kuhn's algorithm: for each gold mention look for an augmenting path
    through the predictions it overlaps.
    """
    edges = [
        [j for j, p in enumerate(pred) if p.label == g.label and g.overlaps(p)]
        for g in gold
    ]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(gold)))


@dataclass
class Report:
    """Counts per type plus the pooled (micro) counts."""

    labels: tuple[str, ...]
    per_type: dict[str, Counts] = field(default_factory=dict)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_type.values():
            total.add(counts)
        return total


def score(
    documents: Iterable[tuple[Sequence[Mention], Sequence[Mention]]],
    labels: Sequence[str],
) -> Report:
    """Score (gold, predicted) mention lists per document, for ``labels`` only.

    Duplicate mentions (same type and span) count once on either side.
    """
    report = Report(tuple(labels), {label: Counts() for label in labels})
    for gold, pred in documents:
        for label in labels:
            g = sorted({m for m in gold if m.label == label})
            p = sorted({m for m in pred if m.label == label})
            report.per_type[label].add(
                Counts(len(g), len(p), strict_matches(g, p), relaxed_matches(g, p))
            )
    return report


def format_report(report: Report) -> str:
    """Per-type table, micro average, and the one-line summary as the last line."""
    header = (
        f"{'type':<12} {'gold':>6} {'pred':>6}  "
        f"{'strict P':>8} {'R':>6} {'F1':>6}  {'relaxed P':>9} {'R':>6} {'F1':>6}"
    )
    lines = [header]
    rows = [*((label, report.per_type[label]) for label in report.labels)]
    micro = report.micro
    rows.append(("micro", micro))
    for name, c in rows:
        s = prf(c.strict, c.n_pred, c.n_gold)
        r = prf(c.relaxed, c.n_pred, c.n_gold)
        lines.append(
            f"{name:<12} {c.n_gold:>6} {c.n_pred:>6}  "
            f"{s.precision:>8.3f} {s.recall:>6.3f} {s.f1:>6.3f}  "
            f"{r.precision:>9.3f} {r.recall:>6.3f} {r.f1:>6.3f}"
        )
    strict_f1 = prf(micro.strict, micro.n_pred, micro.n_gold).f1
    relaxed_f1 = prf(micro.relaxed, micro.n_pred, micro.n_gold).f1
    lines.append(
        f"criteria: strict_f1={strict_f1:.3f} relaxed_f1={relaxed_f1:.3f} "
        f"n_gold={micro.n_gold}"
    )
    return "\n".join(lines)
