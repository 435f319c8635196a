"""Section detection (the ``trialmatch_sections`` component).

After medspaCy's sectionizer (Eyre et al. 2021): a section starts at a known
header ("FAMILY HISTORY:", "A/P:", MTSamples' "PAST MEDICAL HISTORY:,") and runs
to the next one. Headers are data (``resources/notes_sections.jsonl``): medspaCy's
default English section rules, re-grouped, plus the headers oncology notes use
(PATHOLOGY, LABS, PERFORMANCE STATUS, ONCOLOGIC HISTORY ...). A section may
carry assertion modifiers: mentions in FAMILY HISTORY are ``family``, in past
medical or surgical history ``historical``.

A header must begin a sentence and end with a colon or the line. An upper-case
header the rules do not know ("HEENT:") ends a section that carries
modifiers, so "FAMILY HISTORY: ... HABITS: smokes" does not make the smoking
a relative's; other sections run on through such sub-headers.

(No ``from __future__ import annotations``: spaCy reads the factory signature.)
"""

import re
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, field_validator
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline import errors
from pipeline.notes.tokenizer import note_text
from pipeline.resources import load_jsonl

MODIFIERS = frozenset({"negated", "historical", "hypothetical", "family", "uncertain"})

_UPPER_HEADER = re.compile(r"[A-Z][A-Z0-9/&()' -]{0,60}[A-Z)][ \t]*:")


class SectionRule(BaseModel):
    """One section: its name, the headers that open it, modifiers it implies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str
    headers: list[str]
    modifiers: list[str] = []

    @field_validator("modifiers")
    @classmethod
    def _known_modifiers(cls, value: list[str]) -> list[str]:
        unknown = set(value) - MODIFIERS
        if unknown:
            raise ValueError(f"unknown modifiers {sorted(unknown)}")
        return value


@dataclass(frozen=True)
class SectionRules:
    """Section rules compiled: one header pattern, modifiers by section."""

    header: re.Pattern[str]
    section_of_header: dict[str, str]
    modifiers: dict[str, frozenset[str]]


@dataclass(frozen=True)
class Section:
    """A section of a note: ``[start, end)`` in characters, header included."""

    name: str
    start: int
    end: int


def compile_section_rules(rules: list[SectionRule]) -> SectionRules:
    """Compile header literals into one case-insensitive, longest-first pattern."""
    section_of_header: dict[str, str] = {}
    for rule in rules:
        for header in rule.headers:
            key = _normalise(header)
            if key in section_of_header:
                raise errors.bad_resource(
                    "notes_sections.jsonl", f"header {header!r} is listed twice"
                )
            section_of_header[key] = rule.section
    alternatives = sorted(section_of_header, key=len, reverse=True)
    body = "|".join(r"\s+".join(map(re.escape, h.split())) for h in alternatives)
    header = re.compile(rf"(?:{body})[ \t]*(?::|(?=[ \t]*(?:\r?\n|$)))", re.IGNORECASE)
    modifiers = {rule.section: frozenset(rule.modifiers) for rule in rules}
    return SectionRules(header, section_of_header, modifiers)


@cache
def load_section_rules() -> SectionRules:
    """The packaged section rules, compiled once per process."""
    return compile_section_rules(load_jsonl("notes_sections.jsonl", SectionRule))


def _normalise(header: str) -> str:
    return " ".join(header.lower().split())


def find_sections(text: str, starts: list[int], rules: SectionRules) -> list[Section]:
    """Sections of ``text`` whose headers begin at one of the sentence ``starts``."""
    sections: list[Section] = []
    name: str | None = None
    begin = 0
    for start in starts:
        match = rules.header.match(text, start)
        if match is not None:
            new_name: str | None = rules.section_of_header[
                _normalise(match.group().rstrip(": \t"))
            ]
        elif (
            name is not None
            and rules.modifiers[name]
            and _UPPER_HEADER.match(text, start)
        ):
            new_name = None
        else:
            continue
        if name is not None:
            sections.append(Section(name, begin, start))
        name, begin = new_name, start
    if name is not None:
        sections.append(Section(name, begin, len(text)))
    return sections


def doc_sentence_starts(doc: Doc) -> list[int]:
    """Character offsets of the sentence starts set on ``doc``."""
    if len(doc) == 0:
        return []
    array = doc.to_array([IDX, SENT_START]).astype("int64")
    return array[array[:, 1] == 1, 0].tolist()


def set_sections(doc: Doc, sections: list[Section]) -> None:
    """Store ``sections`` as ``doc.spans["sections"]`` (label = section name)."""
    spans = []
    for section in sections:
        span = doc.char_span(
            section.start, section.end, label=section.name, alignment_mode="expand"
        )
        if span is not None:
            spans.append(span)
    doc.spans["sections"] = spans


def section_at(doc: Doc, char: int) -> str | None:
    """The name of the section holding character offset ``char``, if any."""
    for span in doc.spans.get("sections", ()):
        if span.start_char <= char < span.end_char:
            return span.label_
    return None


def _span_section(span: Span) -> str | None:
    return section_at(span.doc, span.start_char)


Span.set_extension("section", getter=_span_section, force=True)


class Sectionizer:
    """spaCy component: finds sections with :func:`find_sections`."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.rules = load_section_rules()

    def __call__(self, doc: Doc) -> Doc:
        starts = doc_sentence_starts(doc)
        set_sections(doc, find_sections(note_text(doc), starts, self.rules))
        return doc


@Language.factory("trialmatch_sections")
def make_sectionizer(nlp: Language, name: str) -> Sectionizer:
    """Factory of the ``trialmatch_sections`` component."""
    return Sectionizer(nlp, name)
