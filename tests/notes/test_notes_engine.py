"""The notes pipeline contract and concept matching (``trialmatch_concepts``)."""

from __future__ import annotations

import pytest

from pipeline.notes.concepts import CasePolicy, load_case_policy
from pipeline.notes.engine import COMPONENTS, build_notes_nlp

NOTE = (
    "HISTORY OF PRESENT ILLNESS: 62-year-old woman with metastatic colon cancer "
    "on FOLFOX.\nPAST MEDICAL HISTORY:, Hypertension, DVT on apixaban.\n"
    "FAMILY HISTORY: Mother with breast cancer.\n"
    "ASSESSMENT AND PLAN: Possible pneumonia. No pulmonary embolism."
)


def mentions(text: str) -> list[tuple[str, str]]:
    doc = build_notes_nlp()(text)
    return sorted({(s.text, s.label_) for s in doc.spans["mentions"]})


def test_pipeline_order_and_cache() -> None:
    nlp = build_notes_nlp()
    assert tuple(nlp.pipe_names) == COMPONENTS
    assert build_notes_nlp() is nlp


def test_doc_keeps_note_text_and_offsets() -> None:
    doc = build_notes_nlp()(NOTE)
    assert doc.text == NOTE
    for span in doc.spans["mentions"]:
        assert NOTE[span.start_char : span.end_char] == span.text


@pytest.mark.parametrize(
    ("term", "label", "section", "modifiers"),
    [
        ("colon cancer", "colorectal_cancer", "history_of_present_illness", set()),
        ("Hypertension", "hypertension", "past_medical_history", {"historical"}),
        ("DVT", "dvt", "past_medical_history", {"historical"}),
        ("breast cancer", "breast_cancer", "family_history", {"family"}),
        (
            "pulmonary embolism",
            "pulmonary_embolism",
            "assessment_and_plan",
            {"negated"},
        ),
    ],
)
def test_mentions_carry_section_and_modifiers(
    term: str, label: str, section: str, modifiers: set[str]
) -> None:
    doc = build_notes_nlp()(NOTE)
    found = [s for s in doc.spans["mentions"] if s.text == term and s.label_ == label]
    assert found, f"{term} not found"
    assert found[0]._.section == section
    assert set(found[0]._.modifiers) == modifiers
    assert found[0]._.modifiers <= {
        "negated",
        "historical",
        "hypothetical",
        "family",
        "uncertain",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PE diagnosed last March.", [("PE", "pulmonary_embolism")]),
        ("The pe teacher called.", []),
        ("Acute MI in 2019.", [("MI", "myocardial_infarction")]),
        ("The mi was small.", []),
        ("Net weight loss.", []),
        ("Pancreatic NET, grade 2.", [("NET", "neuroendocrine_tumor")]),
        ("Known htn and chf.", [("chf", "heart_failure"), ("htn", "hypertension")]),
        (
            "Non-small cell lung cancer.",
            [("Non-small cell lung cancer", "lung_cancer")],
        ),
    ],
)
def test_concepts_case_policy_and_longest_match(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert mentions(text) == expected


@pytest.mark.parametrize(
    ("term", "sensitive"),
    [
        ("PE", True),
        ("NET", True),
        ("CIS", True),
        ("HTN", False),
        ("AIDS", True),
        ("apixaban", False),
        ("Cr", True),
        ("colon cancer", False),
    ],
)
def test_case_policy(term: str, sensitive: bool) -> None:
    assert load_case_policy().is_case_sensitive(term) is sensitive


def test_case_policy_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError):
        CasePolicy.model_validate(
            {
                "case_sensitive_max_length": 4,
                "case_sensitive_terms": [],
                "case_insensitive_terms": [],
                "excluded_terms": [],
                "ignore_case": True,
            }
        )


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        (
            "allergies.,MEDICATIONS: ,",
            ["allergies", ".", ",", "MEDICATIONS", ":", ","],
        ),
        ("Hgb 9.1 g/dL", ["Hgb", "9.1", "g", "/", "dL"]),
        ("HER2 3+, 10mg", ["HER2", "3", "+", ",", "10mg"]),
        ("a  b\n c", ["a", " ", "b", "\n ", "c"]),
    ],
)
def test_tokenizer_keeps_text_and_splits_punctuation(
    text: str, tokens: list[str]
) -> None:
    doc = build_notes_nlp().make_doc(text)
    assert doc.text == text
    assert [t.text for t in doc] == tokens
