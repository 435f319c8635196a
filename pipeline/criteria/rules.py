"""The criteria stage's rules, kept as data in ``pipeline/resources/criteria_*.json``.

Each file is validated on load against a model that forbids unknown keys, so a
misspelt rule key fails at start-up instead of silently disabling a rule.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict

from pipeline.resources import load_json


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListingRules(_Strict):
    """How listings are laid out: criteria headings, page furniture, page labels."""

    inclusion_headings: list[str]
    exclusion_headings: list[str]
    furniture_lines: list[str]
    furniture_prefixes: list[str]
    furniture_suffixes: list[str]
    page_labels: dict[str, str | None]
    page_end_labels: list[str]


class Lexicon(_Strict):
    """Trigger words and phrases for values, windows, scopes and structure."""

    characters: dict[str, str]
    comparators: dict[str, str]
    trailing_comparators: dict[str, str]
    range_joiners: list[str]
    sex_terms: dict[str, str]
    number_words: dict[str, int]
    time_units: dict[str, str]
    window_cues_before: list[str]
    window_cues_after: list[str]
    window_open_cues: list[str]
    # Before a duration that an elapsed-time cue follows ("at least 4 weeks
    # since"): the window is a least time elapsed, not a look-back.
    window_minimum_cues: list[str]
    # A minimum cue right after one of these measures a duration to keep to
    # ("for at least 3 months after the last dose"), not the time elapsed.
    duration_cues: list[str]
    anchors: dict[str, str]
    negation_cues: list[str]
    criterion_negation_starts: list[str]
    scope_terminators: list[str]
    moods: dict[str, str]
    excluding_triggers: list[str]
    exception_triggers: list[str]
    exception_final_markers: list[str]
    including_triggers: list[str]
    any_cues: list[str]
    all_cues: list[str]
    # Coded mentions joined by one of these ("stroke or myocardial infarction",
    # "ECOG 0-1 or Karnofsky >= 70") are alternatives, unless the text between
    # them also holds a conjunction ("stroke or MI with LVEF < 40 %").
    alternative_joins: list[str]
    conjunctions: list[str]
    analog_terms: list[str]
    dipstick_values: dict[str, int]
    default_measure_for_unit: dict[str, str]
    # Lay phrases for vocabulary concepts, by concept id ("fluid in both sides
    # of the chest" -> pleural_effusion); checked against the vocabulary when
    # the concept matcher is built. Criteria only, not vocabulary terms: in
    # notes "blood clot" also names clots that are no thrombosis (a hyphema,
    # a clot in the bladder).
    lay_terms: dict[str, list[str]]


@cache
def listing_rules() -> ListingRules:
    """The listing layout rules (``criteria_listing.json``)."""
    return load_json("criteria_listing.json", ListingRules)


@cache
def lexicon() -> Lexicon:
    """The extraction lexicon (``criteria_lexicon.json``)."""
    return load_json("criteria_lexicon.json", Lexicon)
