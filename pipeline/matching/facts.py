"""Note facts indexed per person and concept, so a criterion looks up only its concepts.

The notes stage hands over a NOTE_NLP-shaped :class:`pandas.DataFrame` (columns =
:class:`~pipeline.schema.NoteFact` fields). Matching reads it once into light
:class:`Fact` tuples grouped by person and by concept id; each criterion then
intersects its expanded concept set with the person's concept keys, which keeps
scoring cost proportional to what a patient's notes actually mention.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from itertools import compress
from typing import NamedTuple

import numpy as np
import pandas as pd

from pipeline import errors
from pipeline.matching.rules import MatchingRules, load_rules
from pipeline.schema import Evidence, NoteFact
from pipeline.units import canonical_unit

FACT_COLUMNS: tuple[str, ...] = tuple(NoteFact.model_fields)
_MODIFIERS = ("negated", "historical", "hypothetical", "family", "uncertain")


class Fact(NamedTuple):
    """One NOTE_NLP row, reduced to what assessment and evidence need.

    A named tuple: an archive makes millions of these, and a tuple is built
    several times faster than a frozen dataclass.
    """

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
    # The event date when the note gives one, else the note's date: set once
    # when indexing, since assessment reads it for every date comparison.
    when: dt.date | None

    @property
    def modifiers(self) -> list[str]:
        """The ConText modifiers set on this mention (Harkema et al. 2009)."""
        # The fields read directly: getattr by name costs a call per modifier.
        flags = (
            self.negated,
            self.historical,
            self.hypothetical,
            self.family,
            self.uncertain,
        )
        return list(compress(_MODIFIERS, flags))

    @property
    def about_patient(self) -> bool:
        """False for family-history and hypothetical mentions: never evidence."""
        return not (self.family or self.hypothetical)

    @property
    def about_relative(self) -> bool:
        """A family-history mention that is not hypothetical: evidence for a
        criterion about a relative."""
        return self.family and not self.hypothetical


@dataclass(slots=True)
class PersonFacts:
    """One person's facts by concept id, and the number of notes they came from."""

    person_id: str
    by_concept: dict[str, list[Fact]] = field(default_factory=dict)
    n_notes: int = 0
    concept_keys: frozenset[str] = frozenset()
    # Evidence records already built from these facts, by id(fact): a parent
    # criterion shows the evidence of its deciding sub-criterion again.
    evidence: dict[int, Evidence] = field(default_factory=dict)


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


def _mapped(
    column: pd.Series, convert: Callable[[object], object] | None = None
) -> list:
    """``convert`` applied once per distinct value (dates and units repeat a lot),
    with every missing value as None; without ``convert`` the values as they are."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    converted = np.empty(len(uniques) + 1, dtype=object)
    # To plain objects first: iterating an Arrow-backed array is per-element slow.
    values = np.asarray(uniques, dtype=object)
    converted[:-1] = values if convert is None else [convert(v) for v in values]
    converted[-1] = None  # code -1: missing
    return converted[codes].tolist()


def _optional(column: pd.Series) -> list:
    """A column as a Python list with every missing value as None."""
    return _mapped(column)


def _strings(column: pd.Series) -> list[str]:
    """A text column as str objects, one shared object per distinct value."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Already factorized: only the categories need converting.
        table = np.empty(len(column.cat.categories) + 1, dtype=object)
        table[:-1] = [str(v) for v in column.cat.categories]
        table[-1] = None  # code -1: missing
        return table[column.cat.codes.to_numpy()].tolist()
    return _optional(column.astype(str))


def _numbers(column: pd.Series) -> list:
    values = pd.to_numeric(column).to_numpy(dtype=float)
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()


def index_facts(facts: pd.DataFrame, as_of: dt.date) -> dict[str, PersonFacts]:
    """Group NOTE_NLP rows by person and concept, dropping notes after ``as_of``.

    Screening "as of" a date must not see notes from its future; drug mentions
    in plan sections are dropped (intentions, not exposures), and so are the
    events of a procedure in its narrative (the surgical field's bleeding).
    Units are put in their canonical spelling here, once, so comparisons later
    are plain lookups.
    Column conversions are vectorised; the one loop over rows builds the facts.
    """
    missing = [c for c in FACT_COLUMNS if c not in facts.columns]
    if missing:
        raise errors.bad_facts(missing)
    out: dict[str, PersonFacts] = {}
    if facts.empty:
        return out
    rules = load_rules()
    later = _mapped(
        facts["note_date"], lambda v: (d := _date(v)) is not None and d > as_of
    )
    intent = facts["section"].isin(rules.intent_sections) & facts["domain"].isin(
        rules.intent_domains
    )
    in_narrative = facts["section"].isin(rules.procedure_sections)
    procedural = in_narrative & facts["concept_id"].isin(rules.procedure_event_concepts)
    dropped = np.array(later, dtype=bool) | (intent | procedural).to_numpy(bool)
    dropped |= _outside_study(facts, rules)
    frame = facts[~dropped]
    # "HER2: positive" also counts as her2_positive; "HER2: negative" as its negation.
    statuses = {
        (spec.measure, value.lower()): (status, negative)
        for status, spec in rules.status_concepts.items()
        for negative, values in ((False, spec.values), (True, spec.negative_values))
        for value in values
    }
    person_ids = _strings(frame["person_id"])
    concept_ids = _strings(frame["concept_id"])
    value_strings = _optional(frame["value_as_string"])
    note_dates = _mapped(frame["note_date"], _date)
    event_dates = _mapped(frame["event_date"], _date)
    found = [
        None if v is None else statuses.get((cid, v.lower()))
        for cid, v in zip(concept_ids, value_strings, strict=True)
    ]
    # Each row is made a Fact by tuple.__new__ itself (what Fact._make calls):
    # no Python frame per row, and the strict zip guarantees every field.
    facts_made = map(
        partial(tuple.__new__, Fact),
        zip(
            _strings(frame["note_id"]),
            note_dates,
            _optional(frame["section"]),
            frame["offset"].astype(int).tolist(),
            frame["offset_end"].astype(int).tolist(),
            _strings(frame["snippet"]),
            _strings(frame["lexical_variant"]),
            concept_ids,
            *(frame[m].astype(bool).tolist() for m in _MODIFIERS),
            _numbers(frame["value_as_number"]),
            value_strings,
            _mapped(frame["unit"], _unit),
            event_dates,
            [e or n for e, n in zip(event_dates, note_dates, strict=True)],
            strict=True,
        ),
    )
    for person_id, fact, status in zip(person_ids, facts_made, found, strict=True):
        person = out.get(person_id)
        if person is None:
            person = out[person_id] = PersonFacts(person_id)
        by_concept = person.by_concept
        by_concept.setdefault(fact.concept_id, []).append(fact)
        if status is not None:
            as_status = fact._replace(negated=True) if status[1] else fact
            by_concept.setdefault(status[0], []).append(as_status)
    notes = frame.groupby(frame["person_id"].astype(str))["note_id"].nunique()
    for person_id, n_notes in notes.items():
        out[person_id].n_notes = int(n_notes)
        out[person_id].concept_keys = frozenset(out[person_id].by_concept)
    return out


def _outside_study(facts: pd.DataFrame, rules: MatchingRules) -> np.ndarray:
    """Rows of a study-context concept whose sentence names no study.

    "After informed consent was obtained, the patient was brought to the
    operating room" is a procedure's consent; "signed informed consent for
    ALTER-G-001" is a trial's.
    """
    concerned = facts["concept_id"].isin(rules.study_context_concepts).to_numpy()
    if not concerned.any():
        return concerned
    study = _study_pattern(tuple(rules.study_words), rules.study_identifier)
    snippets = facts.loc[concerned, "snippet"].astype(str)
    outside = concerned.copy()
    outside[concerned] = ~snippets.str.contains(study).to_numpy(dtype=bool)
    return outside


@cache
def _study_pattern(words: tuple[str, ...], identifier: str) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?i:\b(?:{alternatives})\b)|{identifier}")


def _unit(raw: object) -> str | None:
    if raw is None:
        return None
    return canonical_unit(str(raw)) or str(raw)
