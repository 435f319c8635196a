"""The seed listing parsed against its hand-checked gold (annotations/)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.criteria import parse_trial
from pipeline.schema import Criterion, TimeWindow, Trial, ValueConstraint

ROOT = Path(__file__).resolve().parents[2]
GOLD = json.loads(
    (ROOT / "annotations" / "NCT05262335.criteria.json").read_text(encoding="utf-8")
)


def _flatten(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        out.append(item)
        out.extend(_flatten(item["sub_criteria"]))
    return out


GOLD_CRITERIA = _flatten(GOLD["criteria"])


@pytest.fixture(scope="module")
def trial() -> Trial:
    return parse_trial(ROOT / GOLD["source"])


@pytest.fixture(scope="module")
def parsed(trial: Trial) -> dict[str, Criterion]:
    return {c.id: c for c in trial.all_criteria()}


def _values(values: list[ValueConstraint]) -> Counter:
    return Counter(
        (v.measure, v.comparator, v.value, v.value_high, v.unit, v.sex) for v in values
    )


def _gold_values(values: list[dict]) -> Counter:
    return Counter(
        (
            v["measure"],
            v["comparator"],
            v["value"],
            v["value_high"],
            v["unit"],
            v["sex"],
        )
        for v in values
    )


def _windows(windows: list[TimeWindow]) -> Counter:
    return Counter((w.days, w.anchor) for w in windows)


def _gold_windows(windows: list[dict]) -> Counter:
    return Counter((w["days"], w["anchor"]) for w in windows)


def test_metadata(trial: Trial) -> None:
    got = trial.model_dump(include=set(GOLD["metadata"]))
    assert got == GOLD["metadata"]
    assert trial.source_format == "page"
    assert trial.warnings == []


def test_criterion_tree(parsed: dict[str, Criterion]) -> None:
    assert sorted(parsed) == sorted(c["id"] for c in GOLD_CRITERIA)


@pytest.mark.parametrize("gold", GOLD_CRITERIA, ids=[c["id"] for c in GOLD_CRITERIA])
def test_criterion_matches_gold(gold: dict, parsed: dict[str, Criterion]) -> None:
    got = parsed[gold["id"]]
    assert (got.kind, got.text, got.start, got.end) == (
        gold["kind"],
        gold["text"],
        gold["start"],
        gold["end"],
    )
    assert [c.id for c in got.sub_criteria] == [c["id"] for c in gold["sub_criteria"]]
    assert got.combine == gold["combine"]
    assert got.negated == gold["negated"]
    assert _values(got.values) == _gold_values(gold["values"])
    assert _windows(got.time_windows) == _gold_windows(gold["time_windows"])
    concepts = {e.concept_id for e in got.entities}
    assert set(gold["concepts"]) <= concepts
    excluded = {e.concept_id for e in got.excluding if e.concept_id is not None}
    assert excluded == set(gold["excluding"])


@pytest.mark.parametrize(
    "gold",
    [c for c in GOLD_CRITERIA if c["exceptions"]],
    ids=[c["id"] for c in GOLD_CRITERIA if c["exceptions"]],
)
def test_exceptions_match_gold(gold: dict, parsed: dict[str, Criterion]) -> None:
    got = parsed[gold["id"]].exceptions
    assert [(x.text, x.start, x.end) for x in got] == [
        (x["text"], x["start"], x["end"]) for x in gold["exceptions"]
    ]
    for exception, expected in zip(got, gold["exceptions"], strict=True):
        assert _values(exception.values) == _gold_values(expected["values"])
        assert _windows(exception.time_windows) == _gold_windows(
            expected["time_windows"]
        )
        assert set(expected["concepts"]) <= {e.concept_id for e in exception.entities}


def test_offsets_index_the_source(trial: Trial) -> None:
    source = (ROOT / GOLD["source"]).read_text(encoding="utf-8")
    for criterion in trial.all_criteria():
        assert source[criterion.start : criterion.end] == criterion.text
        for entity in [*criterion.entities, *criterion.excluding]:
            assert source[entity.start : entity.end] == entity.text
        for window in criterion.time_windows:
            assert source[window.start : window.end] == window.text
        for exception in criterion.exceptions:
            assert source[exception.start : exception.end] == exception.text
