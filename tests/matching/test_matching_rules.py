"""``resources/matching_rules.json``: loaded and validated as data."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pipeline.matching.rules import MatchingRules, load_rules
from pipeline.resources import read_text


def _packaged() -> dict:
    return json.loads(read_text("matching_rules.json"))


def test_packaged_rules_load() -> None:
    assert "informed_consent" in load_rules().study_context_concepts


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"study_identifier": "(NCT"}, "study_identifier is not a regular expression"),
        (
            {
                "implied_values": [
                    {
                        "finding": "tachycardiac",
                        "measure": "heart_rate",
                        "comparator": ">",
                        "value": 100,
                        "unit": "bpm",
                    }
                ]
            },
            "implied_values names unknown concepts: tachycardiac",
        ),
    ],
)
def test_bad_rules_are_rejected(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MatchingRules.model_validate({**_packaged(), **change})
