"""Sentence splitting of clinical notes (``trialmatch_sentences``)."""

from __future__ import annotations

import pytest

from pipeline.notes.engine import build_context_nlp
from pipeline.notes.sentences import load_sentence_rules, sentence_starts


def sentences(text: str) -> list[str]:
    return [s.text.strip() for s in build_context_nlp()(text).sents if s.text.strip()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No fever. Mild cough.", ["No fever.", "Mild cough."]),
        ("Seen by Dr. Smith today.", ["Seen by Dr. Smith today."]),
        (
            "Aspirin 81 mg p.o. q.d. Then review.",
            ["Aspirin 81 mg p.o. q.d. Then review."],
        ),
        ("Take 5 mg. daily with food.", ["Take 5 mg. daily with food."]),
        ("Lisinopril 10 mg. He denies pain.", ["Lisinopril 10 mg.", "He denies pain."]),
        ("Hgb 9.1 g/dL today.", ["Hgb 9.1 g/dL today."]),
        # a form's question keeps its answer; an open question ends
        ("Pregnant? Negative. Smoker? Yes.", ["Pregnant? Negative.", "Smoker? Yes."]),
        ("PE? CT angiogram pending.", ["PE?", "CT angiogram pending."]),
        (
            "Allergies:\nNone\n\nPlan:\n1. CT scan\n2. Labs",
            ["Allergies:", "None", "Plan:", "1. CT scan", "2. Labs"],
        ),
        (
            "diabetes and\nhypertension were noted",
            ["diabetes and\nhypertension were noted"],
        ),
        (
            "Rhinitis.,MEDICATIONS: , Allegra.,PLAN:,1.  Zyrtec.  "
            "Another option.,2.  Samples.",
            [
                "Rhinitis.,",
                "MEDICATIONS: ,",
                "Allegra.,",
                "PLAN:,",
                "1.  Zyrtec.",
                "Another option.,",
                "2.  Samples.",
            ],
        ),
        ("- aspirin\n- warfarin", ["- aspirin", "- warfarin"]),
        (
            "MR SPINE   1331 HOURS    CLINICAL HISTORY:     Female with back pain.",
            ["MR SPINE   1331 HOURS", "CLINICAL HISTORY:", "Female with back pain."],
        ),
        ("Seen by Dr SMITH PLAN: none.", ["Seen by Dr SMITH PLAN: none."]),
        ("Is it pain? Yes!", ["Is it pain? Yes!"]),
        ("Is it pain? Maybe.", ["Is it pain?", "Maybe."]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "word", "\n\nA.\n\n"])
def test_first_start_is_zero_and_text_is_kept(text: str) -> None:
    starts = sentence_starts(text, load_sentence_rules())
    assert starts[0] == 0
    assert starts == sorted(set(starts))
    assert build_context_nlp()(text).text == text
