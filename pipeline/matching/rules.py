"""``resources/matching_rules.json``: the lexical knobs of assessment, as data."""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from pipeline.resources import load_json
from pipeline.vocabulary import load_vocabulary


class StatusConcept(BaseModel):
    """A biomarker status read from a measurement's value ("HER2: positive")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: str
    values: list[str]
    negative_values: list[str]


class ImpliedValue(BaseModel):
    """A finding whose definition bounds a measure (tachycardia: heart rate
    above 100 bpm), read when the notes name the finding but give no value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str
    measure: str
    comparator: Literal["<", ">"]
    value: float
    unit: str


class MatchingRules(BaseModel):
    """``resources/matching_rules.json``: the lexical knobs of assessment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    female_only_concepts: list[str]
    male_only_concepts: list[str]
    # A criterion naming one of these applies only to women who can become
    # pregnant: not to men, nor to women with an affirmed not_childbearing one.
    childbearing_concepts: list[str]
    not_childbearing_concepts: list[str]
    ignored_domains: list[str]
    primary_domains: list[str]
    qualifier_domains: list[str]
    sex_concepts: list[str]
    female_words: list[str]
    male_words: list[str]
    per_dose_units: dict[str, str]
    comparator_words: dict[str, list[str]]
    status_concepts: dict[str, StatusConcept]
    current_triggers: list[str]
    other_triggers: list[str]
    intent_sections: list[str]
    intent_domains: list[str]
    # Mentions of these concepts in these sections (an operation's narrative:
    # "bleeding was controlled with cautery", "no bleeding at the end") are
    # events of the procedure, not the patient's condition.
    procedure_sections: list[str]
    procedure_event_concepts: list[str]
    # Mentions of these count only in a sentence about a study (one of the
    # words, or an identifier such as "NCT05262335" or "ALTER-G-001"): a
    # note's "informed consent was obtained" is a procedure's, not a trial's.
    study_context_concepts: list[str]
    study_words: list[str]
    study_identifier: str
    population_concepts: list[str]
    count_phrases: dict[str, int]
    lookahead_anchors: list[str]
    absence_triggers: list[str]
    # An entity whose own words before its concept's term are one of these
    # asks for its absence ("non smoker", "Non-smoker"); unlike the triggers,
    # they reach no further.
    absence_prefixes: list[str]
    # Exclusions naming only these are left open by silence: a note that does
    # not say a woman is pregnant does not say she is not.
    open_world_concepts: list[str]
    # A concept within five words after one of these is named of a relative.
    family_triggers: list[str]
    implied_values: list[ImpliedValue]
    # In an inclusion asking for an absence, a concept within two words after
    # one of these is the context of what must be absent ("No prior systemic
    # therapy for metastatic disease"), not itself asked to be absent.
    purpose_triggers: list[str]
    # An inclusion whose opening words name one sex applies only to that sex
    # when it holds one of these ("Women of childbearing potential should
    # agree ..."); without one it admits that sex only ("Female patients aged
    # 18 to 75" is not met by a man).
    obligation_words: list[str]

    @field_validator("implied_values")
    @classmethod
    def _names_concepts(cls, values: list[ImpliedValue]) -> list[ImpliedValue]:
        vocab = load_vocabulary()
        for iv in values:
            unknown = [cid for cid in (iv.finding, iv.measure) if cid not in vocab]
            if unknown:
                msg = f"implied_values names unknown concepts: {', '.join(unknown)}"
                raise ValueError(msg)
        return values

    @field_validator("study_identifier")
    @classmethod
    def _is_a_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            msg = f"study_identifier is not a regular expression: {exc}"
            raise ValueError(msg) from exc
        return value


@cache
def load_rules() -> MatchingRules:
    """The packaged matching rules (read once per process)."""
    return load_json("matching_rules.json", MatchingRules)
