"""The typed records that pass between the three stages, each with one JSON form.

* criteria stage -> :class:`Trial` (holding :class:`Criterion` trees),
* notes stage -> :class:`NoteFact` rows (one per asserted mention or measurement),
* matching stage -> :class:`PatientMatch` (holding :class:`CriterionAssessment`).

Every record rejects unknown keys, so a JSON file written by an older or newer
version fails loudly on load instead of being half-read. ``to_json`` /
``from_json`` are the only (de)serialisers; README.md documents the forms.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict

Domain = Literal[
    "Condition",
    "Drug",
    "Procedure",
    "Measurement",
    "Observation",
    "Person",
    "Device",
    "Visit",
    "Value",
    "Temporal",
    "Negation",
    "Qualifier",
    "Multiplier",
    "Reference_point",
    "Mood",
]
Comparator = Literal["<", "<=", "=", ">=", ">", "between"]
CriterionKind = Literal["inclusion", "exclusion"]
Sex = Literal["female", "male"]
Status = Literal["met", "not_met", "unknown", "not_applicable"]
Verdict = Literal["candidate", "review", "excluded"]


class Record(BaseModel):
    """Base of every record: strict keys, one JSON form."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        return cls.model_validate_json(text)


# --- criteria stage -----------------------------------------------------------


class Entity(Record):
    """A typed mention inside a criterion (Chia's OMOP-domain scheme).

    ``start``/``end`` are character offsets into the trial source text.
    ``concept_id`` is a key of the shared vocabulary (``pipeline.vocabulary``)
    when the mention maps to one; ``codes`` carries public codes (``ICD10CM``,
    ``LOINC``) when they are known.
    """

    text: str
    domain: Domain
    start: int
    end: int
    concept_id: str | None = None
    codes: dict[str, str] = {}
    negated: bool = False


class ValueConstraint(Record):
    """A numeric limit: ``measure comparator value [unit]``.

    ``between`` uses ``value`` as the low and ``value_high`` as the high bound
    (inclusive). ``unit`` is the canonical unit of ``pipeline.units`` (``g/L``,
    ``10^9/L``, ``xULN`` ...); ``sex`` restricts the limit to one sex
    ("> 450 ms in men").
    """

    measure: str
    measure_text: str
    comparator: Comparator
    value: float
    value_high: float | None = None
    unit: str | None = None
    sex: Sex | None = None
    start: int
    end: int


class TimeWindow(Record):
    """A look-back window ("within 6 months") in days, relative to ``anchor``.

    ``anchor`` is what the trial measures from (``first_dose``, ``enrollment``);
    the matcher measures from its as-of date. A ``minimum`` window is a least
    time elapsed ("at least 4 weeks since prior chemotherapy"): the event must
    lie further back than it.
    """

    days: float
    text: str
    anchor: str | None = None
    minimum: bool = False
    start: int
    end: int


class CriterionException(Record):
    """An allowance carved out of a criterion ("allowed to take low-dose aspirin")."""

    text: str
    start: int
    end: int
    entities: list[Entity] = []
    values: list[ValueConstraint] = []
    time_windows: list[TimeWindow] = []


class Criterion(Record):
    """One eligibility item, possibly with sub-criteria.

    ``combine`` says how sub-criteria decide the parent: ``any`` for
    OR-alternatives and for a list of excluding conditions, ``all`` for a
    conjunction. ``excluding`` holds entities an inclusion explicitly rules out
    ("excluding gastrointestinal stromal tumors"); ``exceptions`` holds
    allowances. ``negated`` marks a criterion phrased as an absence
    ("No previous systemic treatment").
    """

    id: str
    kind: CriterionKind
    text: str
    start: int
    end: int
    parent_id: str | None = None
    negated: bool = False
    mood: str | None = None
    entities: list[Entity] = []
    values: list[ValueConstraint] = []
    time_windows: list[TimeWindow] = []
    excluding: list[Entity] = []
    exceptions: list[CriterionException] = []
    combine: Literal["any", "all"] = "all"
    sub_criteria: list[Criterion] = []

    def walk(self) -> list[Criterion]:
        """This criterion followed by all its descendants, depth first."""
        out = [self]
        for child in self.sub_criteria:
            out.extend(child.walk())
        return out


class Trial(Record):
    """A parsed trial listing."""

    trial_id: str | None = None
    title: str | None = None
    conditions: list[str] = []
    arms: list[str] = []
    min_age_years: float | None = None
    max_age_years: float | None = None
    sex: Literal["all", "female", "male"] = "all"
    phase: str | None = None
    status: str | None = None
    source_format: Literal["page", "ctgov_json", "text"]
    source_path: str | None = None
    criteria: list[Criterion] = []
    warnings: list[str] = []

    def all_criteria(self) -> list[Criterion]:
        """Every criterion and sub-criterion, depth first."""
        return [c for top in self.criteria for c in top.walk()]


# --- notes stage ----------------------------------------------------------------


class Person(Record):
    """A row of the optional person table (OMOP PERSON, reduced)."""

    person_id: str
    birth_date: dt.date | None = None
    year_of_birth: int | None = None
    sex: Sex | None = None


class NoteFact(Record):
    """One asserted mention or measurement in a note, in OMOP NOTE_NLP's shape.

    ``offset``/``offset_end`` are character offsets into ``note_text``.
    ``concept_id`` is a key of the shared vocabulary; ``concept_code`` the public
    code (``ICD10CM:C16.9``) when known. ``term_exists`` is False when the mention
    is negated, hypothetical, about someone else or uncertain; the individual
    ConText modifiers are kept as booleans so the matcher can tell them apart.
    """

    note_nlp_id: int
    note_id: str
    person_id: str
    note_date: dt.date | None = None
    section: str | None = None
    snippet: str
    offset: int
    offset_end: int
    lexical_variant: str
    concept_id: str
    concept_code: str | None = None
    domain: Domain
    nlp_system: str
    nlp_date: dt.date
    term_exists: bool
    term_temporal: Literal["current", "historical"] | None = None
    term_modifiers: str = ""
    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    uncertain: bool = False
    value_as_number: float | None = None
    value_as_string: str | None = None
    unit: str | None = None
    comparator: Comparator | None = None
    event_date: dt.date | None = None


# --- matching stage -------------------------------------------------------------


class Evidence(Record):
    """Where in the notes a status comes from; ``start``/``end`` index the note text."""

    note_id: str
    note_date: dt.date | None = None
    section: str | None = None
    start: int
    end: int
    snippet: str
    modifiers: list[str] = []


class CriterionAssessment(Record):
    """One patient against one criterion."""

    criterion_id: str
    kind: CriterionKind
    text: str
    status: Status
    evidence: list[Evidence] = []
    rationale: str


class PatientMatch(Record):
    """One patient against one trial: the verdict, its score and every criterion."""

    person_id: str
    trial_id: str | None
    verdict: Verdict
    score: float
    criteria: list[CriterionAssessment]
