"""Note facts indexed per person and concept, so a criterion looks up only its concepts.

The notes stage hands over a NOTE_NLP-shaped :class:`pandas.DataFrame` (columns =
:class:`~pipeline.schema.NoteFact` fields). Matching reads it once into light
:class:`Fact` tuples grouped by person and by concept id; each criterion then
intersects its expanded concept set with the person's concept keys, which keeps
scoring cost proportional to what a patient's notes actually mention.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from pipeline import errors
from pipeline.matching.rules import load_rules
from pipeline.schema import NoteFact
from pipeline.units import canonical_unit

FACT_COLUMNS: tuple[str, ...] = tuple(NoteFact.model_fields)
_MODIFIERS = ("negated", "historical", "hypothetical", "family", "uncertain")


@dataclass(frozen=True, slots=True)
class Fact:
    """One NOTE_NLP row, reduced to what assessment and evidence need."""

    note_id: str
    note_date: dt.date | None
    section: str | None
    start: int
    end: int
    snippet: str
    lexical_variant: str
    concept_id: str
    negated: bool
    historical: bool
    hypothetical: bool
    family: bool
    uncertain: bool
    value: float | None
    value_string: str | None
    unit: str | None
    event_date: dt.date | None

    @property
    def when(self) -> dt.date | None:
        """The event date when the note gives one, else the note's date."""
        return self.event_date or self.note_date

    @property
    def modifiers(self) -> list[str]:
        """The ConText modifiers set on this mention (Harkema et al. 2009)."""
        return [m for m in _MODIFIERS if getattr(self, m)]

    @property
    def about_patient(self) -> bool:
        """False for family-history and hypothetical mentions: never evidence."""
        return not (self.family or self.hypothetical)


@dataclass(slots=True)
class PersonFacts:
    """One person's facts by concept id, and the number of notes they came from."""

    person_id: str
    by_concept: dict[str, list[Fact]] = field(default_factory=dict)
    n_notes: int = 0
    concept_keys: frozenset[str] = frozenset()


def _date(value: object) -> dt.date | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):
        return None
    return dt.date.fromisoformat(str(value)[:10])


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as a Python list with every missing value as None."""
    col = frame[name]
    return col.astype(object).where(col.notna(), None).tolist()


def _mapped(values: list, convert: Callable[[object], object]) -> list:
    """``convert`` applied once per distinct value (dates and units repeat a lot)."""
    cache: dict[object, object] = {}
    out = []
    for v in values:
        if v not in cache:
            cache[v] = convert(v)
        out.append(cache[v])
    return out


def index_facts(facts: pd.DataFrame, as_of: dt.date) -> dict[str, PersonFacts]:
    """Group NOTE_NLP rows by person and concept, dropping notes after ``as_of``.

    Screening "as of" a date must not see notes from its future; drug mentions
    in plan sections are dropped (intentions, not exposures). Units are put in
    their canonical spelling here, once, so comparisons later are plain lookups.
    """
    missing = [c for c in FACT_COLUMNS if c not in facts.columns]
    if missing:
        raise errors.bad_facts(missing)
    out: dict[str, PersonFacts] = {}
    if facts.empty:
        return out
    rules = load_rules()
    note_dates = _mapped(_column(facts, "note_date"), _date)
    keep = [
        not (d is not None and d > as_of)
        and not (sec in rules.intent_sections and dom in rules.intent_domains)
        for d, sec, dom in zip(
            note_dates, facts["section"].tolist(), facts["domain"].tolist(), strict=True
        )
    ]
    frame = facts[keep]
    note_dates = [d for d, k in zip(note_dates, keep, strict=True) if k]
    # "HER2: positive" also counts as her2_positive; "HER2: negative" as its negation.
    statuses = {
        (spec.measure, value.lower()): (status, negative)
        for status, spec in rules.status_concepts.items()
        for negative, values in ((False, spec.values), (True, spec.negative_values))
        for value in values
    }
    values = [
        None if v is None else float(v) for v in _column(frame, "value_as_number")
    ]
    rows = zip(
        frame["person_id"].astype(str).tolist(),
        frame["note_id"].astype(str).tolist(),
        note_dates,
        _column(frame, "section"),
        frame["offset"].astype(int).tolist(),
        frame["offset_end"].astype(int).tolist(),
        frame["snippet"].astype(str).tolist(),
        frame["lexical_variant"].astype(str).tolist(),
        frame["concept_id"].astype(str).tolist(),
        *(frame[m].astype(bool).tolist() for m in _MODIFIERS),
        values,
        _column(frame, "value_as_string"),
        _mapped(_column(frame, "unit"), _unit),
        _mapped(_column(frame, "event_date"), _date),
        strict=True,
    )
    notes_seen: dict[str, set[str]] = {}
    for person_id, *fields in rows:
        fact = Fact(*fields)
        person = out.get(person_id)
        if person is None:
            person = out[person_id] = PersonFacts(person_id)
            notes_seen[person_id] = set()
        person.by_concept.setdefault(fact.concept_id, []).append(fact)
        if fact.value_string is not None:
            found = statuses.get((fact.concept_id, fact.value_string.lower()))
            if found is not None:
                status, negative = found
                as_status = replace(fact, negated=True) if negative else fact
                person.by_concept.setdefault(status, []).append(as_status)
        notes_seen[person_id].add(fact.note_id)
    for person_id, notes in notes_seen.items():
        out[person_id].n_notes = len(notes)
        out[person_id].concept_keys = frozenset(out[person_id].by_concept)
    return out


def _unit(raw: object) -> str | None:
    if raw is None:
        return None
    return canonical_unit(str(raw)) or str(raw)
