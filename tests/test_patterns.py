import re

import pytest

from pipeline.patterns import NUMBER, alternation


@pytest.mark.parametrize(
    ("phrases", "text", "expected"),
    [
        (["at least", "at most", "at"], "at  most 5", "at  most"),
        (["no", "no evidence of"], "no evidence of disease", "no evidence of"),
        (["≥", ">"], "> 450 ms", ">"),
        (["U/d"], "12,000 U/d", "U/d"),
    ],
)
def test_alternation_prefers_the_longest_phrase(phrases, text, expected) -> None:
    assert re.search(alternation(phrases), text).group() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,500/mm3", "1,500"), ("Hgb 9.1", "9.1"), ("x .5", ".5"), ("12,34", "12")],
)
def test_number(text: str, expected: str) -> None:
    assert re.search(NUMBER, text).group() == expected
