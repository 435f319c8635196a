"""Property-based: any text at all parses, or fails with a TrialmatchError only."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.criteria import parse_listing_text
from pipeline.errors import TrialmatchError
from pipeline.schema import Trial

_PIECES = st.sampled_from(
    [
        "Inclusion criteria\n",
        "Exclusion Criteria:\n",
        "Menu\n",
        "Loading...\n",
        "  • ",
        "* ",
        "- ",
        "1. ",
        "2) ",
        "\n",
        "\n\n",
        "Age 18-75 years",
        "Hb ≥ 90 g/L",
        "1.5×109/L",
        "; Or ",
        "including: ",
        "; allowed to take aspirin (≤100 mg/d)",
        "but the following: 1) a; 2) b",
        "(excluding GIST)",
        "within 4 weeks prior to the first dose",
        "QT > 450ms in men",
        "{",
        "}",
        '"protocolSection"',
        ":",
        "Ⅳ",
        "\t",
        "(",
        ")",
    ]
)


def _check(trial: Trial, text: str) -> None:
    source = text
    for criterion in trial.all_criteria():
        if trial.source_format == "ctgov_json":
            return
        assert source[criterion.start : criterion.end] == criterion.text
        for entity in [*criterion.entities, *criterion.excluding]:
            assert source[entity.start : entity.end] == entity.text
        for exception in criterion.exceptions:
            assert source[exception.start : exception.end] == exception.text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_listing_like_text(text: str) -> None:
    try:
        trial = parse_listing_text(text, Path("<hypothesis>"))
    except TrialmatchError:
        return
    _check(trial, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_unicode(text: str) -> None:
    try:
        trial = parse_listing_text(text, Path("<hypothesis>"))
    except TrialmatchError:
        return
    _check(trial, text)
