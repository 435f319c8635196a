"""Scoring extracted facts against hand-written gold facts (``annotations/notes/``).

A gold row names a note and a concept and, optionally, what the fact must
say: a substring of its lexical variant (``text``) or of its sentence
(``snippet``) to pick one mention among several, its value, unit, polarity,
modifiers and event date. Only the keys a row sets are checked (an explicit
``"event_date": null`` demands no date). Rows with ``"absent": true`` are
traps: no asserted fact of that concept may exist ("HER2 negative (IHC 1+)"
must not yield ``her2_positive``). Each gold row is matched greedily to one
unused fact that satisfies it; recall = matched gold rows / gold rows,
precision = matched facts / all facts extracted from the gold notes (the gold
lists every fact its notes state, so an unlisted fact is a false positive).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from pipeline import errors
from pipeline.textio import read_user_records

_CHECKED = (
    "value_as_string",
    "unit",
    "term_exists",
    "negated",
    "historical",
    "hypothetical",
    "family",
    "uncertain",
)


class GoldFact(BaseModel):
    """One expected fact (or, with ``absent``, one fact that must not be there)."""

    model_config = ConfigDict(extra="forbid")

    note_id: str
    concept_id: str
    text: str | None = None
    snippet: str | None = None
    value_as_number: float | None = None
    value_as_string: str | None = None
    unit: str | None = None
    term_exists: bool | None = None
    negated: bool | None = None
    historical: bool | None = None
    hypothetical: bool | None = None
    family: bool | None = None
    uncertain: bool | None = None
    event_date: dt.date | None = None
    absent: bool = False


@dataclass
class FactScore:
    """Precision and recall of extracted facts against gold rows."""

    matched: int
    n_gold: int
    n_facts: int
    missed: list[GoldFact] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    traps_failed: list[GoldFact] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.n_facts if self.n_facts else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        """The summary line ``trialmatch eval facts`` ends with."""
        return (
            f"facts: precision={self.precision:.3f} recall={self.recall:.3f} "
            f"f1={self.f1:.3f} n_gold={self.n_gold} n_facts={self.n_facts} "
            f"traps_failed={len(self.traps_failed)}"
        )


def load_gold(path: Path) -> list[GoldFact]:
    """Gold rows from a JSONL file (one :class:`GoldFact` per line)."""
    return read_user_records(path, GoldFact, 10_000_000, errors.bad_gold)


def _date(value: Any) -> dt.date | None:
    if value is None or value is pd.NaT:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def satisfies(fact: dict[str, Any], gold: GoldFact) -> bool:
    """True when ``fact`` (a row of :func:`extract_facts`) says what ``gold`` asks."""
    if (fact["note_id"], fact["concept_id"]) != (gold.note_id, gold.concept_id):
        return False
    if gold.text is not None and gold.text not in fact["lexical_variant"]:
        return False
    if gold.snippet is not None and gold.snippet not in fact["snippet"]:
        return False
    asked = gold.model_fields_set
    if "value_as_number" in asked:
        got = fact["value_as_number"]
        if got is None or math.isnan(got) or gold.value_as_number is None:
            return False
        if not math.isclose(got, gold.value_as_number, rel_tol=1e-3, abs_tol=1e-6):
            return False
    if "event_date" in asked and _date(fact["event_date"]) != gold.event_date:
        return False
    return all(fact[key] == getattr(gold, key) for key in _CHECKED if key in asked)


def score_facts(facts: pd.DataFrame, gold: list[GoldFact]) -> FactScore:
    """Greedy one-to-one matching of gold rows to the facts of the gold notes."""
    notes = {g.note_id for g in gold}
    rows = [r for r in facts.to_dict("records") if r["note_id"] in notes]
    used: set[int] = set()
    missed: list[GoldFact] = []
    traps: list[GoldFact] = []
    expected = [g for g in gold if not g.absent]
    for g in expected:
        hit = next(
            (i for i, r in enumerate(rows) if i not in used and satisfies(r, g)), None
        )
        if hit is None:
            missed.append(g)
        else:
            used.add(hit)
    for g in gold:
        if g.absent and any(
            r["term_exists"] and satisfies(r, g.model_copy(update={"absent": False}))
            for r in rows
        ):
            traps.append(g)
    return FactScore(
        matched=len(used),
        n_gold=len(expected),
        n_facts=len(rows),
        missed=missed,
        extra=[r for i, r in enumerate(rows) if i not in used],
        traps_failed=traps,
    )
