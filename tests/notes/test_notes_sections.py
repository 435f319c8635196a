"""Section detection (``trialmatch_sections``), medspaCy-sectionizer style."""

from __future__ import annotations

import pytest

from pipeline.errors import TrialmatchError
from pipeline.notes.engine import build_context_nlp
from pipeline.notes.sections import SectionRule, compile_section_rules


def section_of(text: str, word: str) -> str | None:
    doc = build_context_nlp()(text)
    start = text.index(word)
    span = doc.char_span(start, start + len(word))
    return span._.section


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        (
            "PAST MEDICAL HISTORY:, Hypertension.,SOCIAL HISTORY: , Smoker.",
            "Hypertension",
            "past_medical_history",
        ),
        (
            "PAST MEDICAL HISTORY:, Hypertension.,SOCIAL HISTORY: , Smoker.",
            "Smoker",
            "social_history",
        ),
        ("Family History:\nMother with breast cancer.", "breast", "family_history"),
        ("FAMILY HISTORY: Noncontributory.\nHEENT: Pallor.", "Pallor", None),
        ("PHYSICAL EXAM:\nHEENT: Pallor.", "Pallor", "physical_exam"),
        ("A/P: Start FOLFOX.", "FOLFOX", "assessment_and_plan"),
        ("ASSESSMENT AND PLAN: Start FOLFOX.", "FOLFOX", "assessment_and_plan"),
        ("IMPRESSION: Liver metastases.", "Liver", "impression"),
        ("PATHOLOGY: Adenocarcinoma, MSS.", "Adenocarcinoma", "pathology"),
        ("LABS: Hgb 9.1.", "Hgb", "labs"),
        ("PERFORMANCE STATUS: ECOG 1.", "ECOG", "performance_status"),
        ("HPI: Rectal bleeding.", "Rectal", "history_of_present_illness"),
        ("ALLERGIES: Penicillin.", "Penicillin", "allergies"),
        ("MEDICATIONS:\nApixaban 5 mg.", "Apixaban", "medications"),
        (
            "DESCRIPTION OF OPERATION: Bleeding was controlled with packing.",
            "Bleeding",
            "procedures",
        ),
        ("Patient has a history of gout.", "gout", None),
        ("She takes medications: aspirin.", "aspirin", None),
    ],
)
def test_sections(text: str, word: str, expected: str | None) -> None:
    assert section_of(text, word) == expected


def test_duplicate_header_is_rejected() -> None:
    rules = [
        SectionRule(section="a", headers=["plan"]),
        SectionRule(section="b", headers=["Plan"]),
    ]
    with pytest.raises(TrialmatchError):
        compile_section_rules(rules)


def test_unknown_modifier_is_rejected() -> None:
    with pytest.raises(ValueError):
        SectionRule(section="a", headers=["x"], modifiers=["maybe"])
