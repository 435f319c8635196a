import pytest
import simple_icd_10_cm as icd

from pipeline.errors import TrialmatchError
from pipeline.vocabulary import Concept, Vocabulary, load_vocabulary


@pytest.mark.parametrize(
    ("member", "cls", "expected"),
    [
        ("apixaban", "anticoagulant", True),
        ("rivaroxaban", "anticoagulant", True),
        ("capox", "chemotherapy", True),
        ("capox", "systemic_therapy", True),
        ("metoprolol", "antihypertensive", True),
        ("aspirin", "anticoagulant", False),
        ("pulmonary_embolism", "thrombosis", True),
        ("gist", "gastrointestinal_cancer", False),
        # A tendency to bleed is not a bleeding event, nor the other way round.
        ("bleeding", "bleeding_tendency", False),
        ("gi_bleeding", "bleeding", True),
    ],
)
def test_class_membership(member: str, cls: str, expected: bool) -> None:
    assert load_vocabulary().is_a(member, cls) is expected


def test_icd10cm_codes_are_real_codes() -> None:
    vocab = load_vocabulary()
    coded = [c for c in vocab.concepts.values() if "ICD10CM" in c.codes]
    assert coded
    assert [c.id for c in coded if not icd.is_valid_item(c.codes["ICD10CM"])] == []


def test_unknown_parent_is_rejected() -> None:
    with pytest.raises(TrialmatchError, match="unknown parent"):
        Vocabulary([Concept(id="x", name="x", domain="Drug", parents=["nope"])])


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(ValueError):
        Concept.model_validate({"id": "x", "name": "x", "domain": "Drug", "colour": 1})
