"""Cutting criteria text into a tree of criteria with source offsets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.criteria.segment import Segment, segment_regions, segment_text


def _texts(source: str, segments: list[Segment]) -> list[str]:
    return [source[s.start : s.end] for s in segments]


def _walk(segments: list[Segment]) -> list[Segment]:
    out = []
    for seg in segments:
        out.append(seg)
        out.extend(_walk(seg.children))
    return out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("• Age ≥ 18;\n• ECOG 0-1;\n", ["Age ≥ 18", "ECOG 0-1"]),
        ("1. Age ≥ 18.\n2) ECOG 0-1\n", ["Age ≥ 18.", "ECOG 0-1"]),
        ("- Adults\n- Signed consent\n", ["Adults", "Signed consent"]),
        ("Age ≥ 18\nECOG 0-1\n", ["Age ≥ 18", "ECOG 0-1"]),
        # A wrapped line continues its bullet.
        (
            "* Histologically confirmed\n  adenocarcinoma\n* ECOG 0-1",
            [
                "Histologically confirmed\n  adenocarcinoma",
                "ECOG 0-1",
            ],
        ),
        # The seed's first exclusion item has no bullet.
        (
            "Patients with active bleeding;\n\n  • Known tuberculosis;\n",
            [
                "Patients with active bleeding",
                "Known tuberculosis",
            ],
        ),
    ],
)
def test_line_items(source: str, expected: list[str]) -> None:
    segments = segment_regions(source, [("inclusion", 0, len(source))])
    assert _texts(source, segments) == expected
    assert [s.id for s in segments] == [f"inc-{i}" for i in range(1, len(expected) + 1)]


def test_indented_bullets_are_sub_criteria() -> None:
    source = (
        "* Adequate organ function:\n  * ANC >= 1500/mm3\n  * Hb >= 9 g/dL\n* ECOG 0-1"
    )
    segments = segment_regions(source, [("inclusion", 0, len(source))])
    assert [s.id for s in _walk(segments)] == ["inc-1", "inc-1.1", "inc-1.2", "inc-2"]
    assert _texts(source, segments[0].children) == ["ANC >= 1500/mm3", "Hb >= 9 g/dL"]
    parent = source[segments[0].start : segments[0].end]
    assert parent.startswith("Adequate organ function:") and parent.endswith("9 g/dL")
    own = segments[0].own
    assert own is not None and source[own[0] : own[1]] == "Adequate organ function"
    assert segments[0].combine == "all"


@pytest.mark.parametrize(
    ("text", "kind", "children", "combine"),
    [
        (
            "A with X; Or B with Y; Or C",
            "inclusion",
            ["A with X", "B with Y", "C"],
            "any",
        ),
        (
            "Any severe disease, including: hypertension; Or two drugs; diabetes",
            "exclusion",
            ["hypertension", "two drugs", "diabetes"],
            "any",
        ),
        (
            "Use contraception;pregnancy test negative",
            "inclusion",
            [
                "Use contraception",
                "pregnancy test negative",
            ],
            "all",
        ),
        ("Hypertension (SBP ≥150; DBP ≥100)", "exclusion", [], "all"),
    ],
)
def test_inline_sub_criteria(
    text: str, kind: str, children: list[str], combine: str
) -> None:
    seg = segment_text(text, kind, "c-1")  # type: ignore[arg-type]
    assert seg is not None
    assert _texts(text, seg.children) == children
    assert seg.combine == combine
    assert [c.id for c in seg.children] == [
        f"c-1.{i}" for i in range(1, len(children) + 1)
    ]


@pytest.mark.parametrize(
    ("text", "own", "exceptions"),
    [
        (
            "Receiving warfarin; allowed to take low-dose aspirin (≤100 mg/d)",
            "Receiving warfarin",
            ["allowed to take low-dose aspirin (≤100 mg/d)"],
        ),
        (
            "Other malignancies, but the following: 1) skin cancer; 2) in situ "
            "carcinoma; 3) remission for 5 years.",
            "Other malignancies",
            ["skin cancer", "in situ carcinoma", "remission for 5 years"],
        ),
        (
            "Use of anticoagulants; prophylactic heparin is allowed",
            "Use of anticoagulants",
            ["prophylactic heparin is allowed"],
        ),
        ("Known allergy to the study drug", "Known allergy to the study drug", []),
    ],
)
def test_exceptions(text: str, own: str, exceptions: list[str]) -> None:
    seg = segment_text(text, "exclusion", "c-1")
    assert seg is not None and seg.own is not None
    assert text[seg.own[0] : seg.own[1]] == own
    assert [text[a:b] for a, b in seg.exceptions] == exceptions
    assert seg.children == []


def test_blank_text_is_no_criterion() -> None:
    assert segment_text(" \n ;", "inclusion", "c-1") is None


_LISTING_ALPHABET = st.sampled_from(
    [*"abc XYZ019;:,.()[]-*•\n\t", "Or ", "; or ", "including:", "1) ", "allowed to"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LISTING_ALPHABET, max_size=80).map("".join))
def test_offsets_are_valid_for_any_text(source: str) -> None:
    segments = segment_regions(source, [("exclusion", 0, len(source))])
    for seg in _walk(segments):
        assert 0 <= seg.start < seg.end <= len(source)
        assert source[seg.start : seg.end].strip()
        if seg.own is not None:
            assert seg.start <= seg.own[0] < seg.own[1] <= seg.end
        for a, b in seg.exceptions:
            assert seg.start <= a < b <= seg.end
        for child in seg.children:
            assert seg.start <= child.start and child.end <= seg.end
