import pytest
from pydantic import ValidationError

from pipeline.schema import Criterion, Trial


def _trial() -> Trial:
    child = Criterion(id="exc-10.1", kind="exclusion", text="b", start=5, end=6)
    parent = Criterion(
        id="exc-10",
        kind="exclusion",
        text="a; b",
        start=0,
        end=6,
        combine="any",
        sub_criteria=[child],
    )
    return Trial(trial_id="NCT0", source_format="text", criteria=[parent])


def test_json_round_trip_keeps_the_tree() -> None:
    trial = _trial()
    again = Trial.from_json(trial.to_json())
    assert again == trial
    assert [c.id for c in again.all_criteria()] == ["exc-10", "exc-10.1"]


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Trial.model_validate({"source_format": "text", "criterias": []})
