"""Strict and relaxed entity scoring (pipeline.criteria.evaluation)."""

from __future__ import annotations

import pytest

from pipeline.criteria.evaluation import (
    Mention,
    format_report,
    prf,
    relaxed_matches,
    score,
    strict_matches,
)

C = "Condition"
V = "Value"


@pytest.mark.parametrize(
    ("gold", "pred", "strict", "relaxed"),
    [
        # "History of pulmonary embolism": exact span.
        ([(C, 11, 29)], [(C, 11, 29)], 1, 1),
        # "embolism" alone overlaps "pulmonary embolism": relaxed only.
        ([(C, 11, 29)], [(C, 21, 29)], 0, 1),
        # Same span, other type: no match either way.
        ([(C, 11, 29)], [(V, 11, 29)], 0, 0),
        # Touching spans do not overlap ([start, end) offsets).
        ([(C, 0, 10)], [(C, 10, 20)], 0, 0),
        # One long prediction over two gold mentions counts once.
        ([(C, 0, 5), (C, 10, 15)], [(C, 0, 15)], 0, 1),
        # Two predictions inside one gold mention: one is matched.
        ([(C, 0, 15)], [(C, 0, 5), (C, 10, 15)], 0, 1),
        # Matching must be maximal: greedy g0->p0 would leave g1 unmatched.
        ([(C, 0, 10), (C, 8, 12)], [(C, 5, 9), (C, 0, 3)], 0, 2),
        ([], [(C, 0, 3)], 0, 0),
    ],
)
def test_matches(
    gold: list[tuple[str, int, int]],
    pred: list[tuple[str, int, int]],
    strict: int,
    relaxed: int,
) -> None:
    g = [Mention(*m) for m in gold]
    p = [Mention(*m) for m in pred]
    assert strict_matches(g, p) == strict
    assert relaxed_matches(g, p) == relaxed


@pytest.mark.parametrize(
    ("correct", "n_pred", "n_gold", "expected"),
    [
        (2, 4, 2, (0.5, 1.0, 2 / 3)),
        (0, 0, 3, (0.0, 0.0, 0.0)),
        (3, 3, 3, (1.0, 1.0, 1.0)),
    ],
)
def test_prf(
    correct: int, n_pred: int, n_gold: int, expected: tuple[float, float, float]
) -> None:
    result = prf(correct, n_pred, n_gold)
    assert (result.precision, result.recall, result.f1) == pytest.approx(expected)


def test_score_pools_types_and_ignores_duplicates_and_other_types() -> None:
    gold = [
        Mention(C, 0, 10),
        Mention(C, 0, 10),  # duplicate annotation counts once
        Mention(V, 20, 25),
        Mention("Qualifier", 30, 35),  # not an evaluated type
    ]
    pred = [Mention(C, 0, 10), Mention(V, 21, 25), Mention(V, 40, 45)]
    report = score([(gold, pred)], (C, V))
    assert report.per_type[C].n_gold == 1
    micro = report.micro
    assert (micro.n_gold, micro.n_pred, micro.strict, micro.relaxed) == (2, 3, 1, 2)
    last = format_report(report).splitlines()[-1]
    assert last == "criteria: strict_f1=0.400 relaxed_f1=0.800 n_gold=2"
