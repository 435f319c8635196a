"""Notes to NOTE_NLP facts: the hand-written gold notes and the output's shape."""

import datetime as dt
import json
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from pipeline.notes import extract_facts, facts_from_text, read_notes
from pipeline.notes.fact_eval import GoldFact, load_gold, satisfies, score_facts
from pipeline.schema import NoteFact

GOLD_DIR = ROOT / "annotations" / "notes"


@cache
def facts_of(notes_file: str) -> pd.DataFrame:
    return extract_facts(read_notes(str(GOLD_DIR / notes_file)).notes)


def gold_rows(name: str) -> list[GoldFact]:
    return load_gold(GOLD_DIR / name)


@pytest.mark.parametrize(
    "gold",
    [
        pytest.param(row, id=f"{row.note_id}-{row.concept_id}")
        for row in gold_rows("gold_facts.jsonl")
    ],
)
def test_gold_fact(gold: GoldFact) -> None:
    rows = facts_of("notes.jsonl").to_dict("records")
    if gold.absent:
        probe = gold.model_copy(update={"absent": False})
        assert not [r for r in rows if r["term_exists"] and satisfies(r, probe)]
    else:
        candidates = [r for r in rows if r["concept_id"] == gold.concept_id]
        assert any(satisfies(r, gold) for r in rows), (gold, candidates)


@pytest.mark.parametrize(
    ("notes_file", "gold_file", "floor"),
    [
        ("notes.jsonl", "gold_facts.jsonl", 0.95),
        ("heldout_notes.jsonl", "heldout_gold_facts.jsonl", 0.9),
    ],
)
def test_precision_and_recall_floor(
    notes_file: str, gold_file: str, floor: float
) -> None:
    score = score_facts(facts_of(notes_file), gold_rows(gold_file))
    assert score.precision >= floor, score.extra
    assert score.recall >= floor, score.missed
    assert score.traps_failed == []


def test_columns_are_the_note_fact_fields_typed() -> None:
    facts = facts_of("notes.jsonl")
    assert list(facts.columns) == list(NoteFact.model_fields)
    assert facts["note_nlp_id"].tolist() == list(range(1, len(facts) + 1))
    for col in ("note_date", "nlp_date", "event_date"):
        assert pd.api.types.is_datetime64_any_dtype(facts[col])
    assert facts["value_as_number"].dtype == "float64"
    assert facts["term_exists"].dtype == bool
    assert facts["offset"].dtype == "int64"


def test_every_row_is_a_valid_note_fact_whose_offsets_index_the_note() -> None:
    notes = read_notes(str(GOLD_DIR / "notes.jsonl")).notes.set_index("note_id")
    facts = facts_of("notes.jsonl")
    for row in facts.astype(object).where(facts.notna(), None).to_dict("records"):
        fact = NoteFact.model_validate(row)
        text = notes.loc[fact.note_id, "note_text"]
        assert text[fact.offset : fact.offset_end] == fact.lexical_variant
        assert fact.nlp_system.startswith("trialmatch ")
        mods = dict(kv.split("=") for kv in fact.term_modifiers.split(";"))
        assert mods["negated"] == str(fact.negated).lower()
        assert fact.term_exists == (
            not (fact.negated or fact.hypothetical or fact.family or fact.uncertain)
        )
        assert fact.term_temporal == ("historical" if fact.historical else "current")


@pytest.mark.parametrize(
    ("concept", "code"),
    [("hemoglobin", "LOINC:718-7"), ("gastric_cancer", "ICD10CM:C16.9")],
)
def test_concept_codes(concept: str, code: str) -> None:
    facts = facts_of("notes.jsonl")
    assert set(facts.loc[facts["concept_id"] == concept, "concept_code"]) == {code}


def test_facts_from_text() -> None:
    facts = facts_from_text(
        "45 yo F. HER2 negative (IHC 1+). Hgb 9.1 g/dL. PE 3 weeks ago.",
        note_id="s1",
        person_id="P",
        note_date=dt.date(2026, 10, 15),
    )
    by_concept = {f.concept_id: f for f in facts}
    assert by_concept["hemoglobin"].value_as_number == 91.0
    assert by_concept["her2"].value_as_string == "negative"
    assert "her2_positive" not in by_concept
    assert by_concept["pulmonary_embolism"].event_date == dt.date(2026, 9, 24)
    assert by_concept["sex"].value_as_string == "female"
    assert {f.note_id for f in facts} == {"s1"}
    assert json.loads(facts[0].to_json())["person_id"] == "P"


@pytest.mark.parametrize(
    ("text", "word", "concept"),
    [
        # A regression: "Nursing Home" used to be read as lactation.
        (
            "Discharged to a nursing home in 2024.",
            "nursing home",
            "nursing_home_residence",
        ),
        ("Nursing Home resident.", "Nursing Home resident", "nursing_home_residence"),
        ("She is nursing her 3-month-old infant.", "nursing", "lactation"),
        # Melena is a gastrointestinal bleed (and so a bleeding).
        ("Two days of melena.", "melena", "gi_bleeding"),
        ("Known coagulopathy on warfarin.", "coagulopathy", "bleeding_tendency"),
        # Findings that bound a vital sign (matching_rules.json implied_values).
        ("She is tachypneic and tachycardic.", "tachycardic", "tachycardia"),
        ("She is tachypneic and tachycardic.", "tachypneic", "tachypnea"),
        ("Hypotensive on arrival.", "Hypotensive", "hypotension"),
        # Lay and drug-borne names (TrialGPT train summaries).
        (
            "He is on immunosuppressive medications.",
            "immunosuppressive medications",
            "immunodeficiency",
        ),
        ("She has smoked 1 to 2 packs per day.", "smoked", "tobacco_smoking"),
        ("He began to have poor memory.", "poor memory", "cognitive_impairment"),
        # Ventricular tachycardia stays a malignant arrhythmia.
        (
            "Episodes of ventricular tachycardia.",
            "ventricular tachycardia",
            "arrhythmia",
        ),
    ],
)
def test_concept_of_a_phrase(text: str, word: str, concept: str) -> None:
    by_text = {f.lexical_variant: f.concept_id for f in facts_from_text(text)}
    assert by_text[word] == concept


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        # Operative notes: the surgical field's bleeding is not a bleeding event
        # (pseudo-terms), nursing staff is not lactation, and a urological or
        # nasal obstruction is not an intestinal one (bare term excluded).
        ("There was good back bleeding from the vessel.", "bleeding"),
        ("Further bleeding was controlled with cautery.", "bleeding"),
        ("The infant was diapered by nursing staff.", "lactation"),
        ("Right ureteropelvic junction obstruction.", "intestinal_obstruction"),
        # Other hypertensions are other diseases than (systemic) hypertension.
        ("Moderate pulmonary artery hypertension on echo.", "hypertension"),
        ("Chronic venous hypertension of both legs.", "hypertension"),
        # Nor is a bladder pain syndrome an infection, or a dialysis access
        # fistula a gastrointestinal one (MTSamples train notes).
        (
            "Bladder instillation for chronic interstitial cystitis.",
            "urinary_tract_infection",
        ),
        ("Thrombosed left forearm loop fistula graft.", "fistula"),
        # A perforated eardrum or uterus is no gastrointestinal perforation.
        ("At this point, there was a near total perforation.", "gi_perforation"),
        ("Left arteriovenous fistula placed in 2019.", "fistula"),
    ],
)
def test_phrase_that_names_no_concept(text: str, concept: str) -> None:
    assert concept not in {f.concept_id for f in facts_from_text(text)}


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("He reports rectal bleeding.", "bleeding"),
        ("A moderate amount of bleeding was noted in the emergency room.", "bleeding"),
        ("CT shows a small bowel obstruction.", "intestinal_obstruction"),
        ("Rectovaginal fistula.", "fistula"),
        ("Repair of esophageal perforation.", "gi_perforation"),
        ("Disease progression on FOLFOX.", "disease_progression"),
        ("Cystitis with E. coli.", "urinary_tract_infection"),
    ],
)
def test_phrase_beside_a_pseudo_term_still_names_its_concept(
    text: str, concept: str
) -> None:
    assert concept in {f.concept_id for f in facts_from_text(text)}


def test_no_notes_gives_an_empty_typed_frame() -> None:
    empty = pd.DataFrame(columns=["note_id", "person_id", "note_date", "note_text"])
    facts = extract_facts(empty)
    assert facts.empty
    assert list(facts.columns) == list(NoteFact.model_fields)


def test_gold_files_exist_and_parse() -> None:
    assert len(gold_rows("gold_facts.jsonl")) >= 150
    assert len({r.note_id for r in gold_rows("gold_facts.jsonl")}) >= 8
    assert Path(GOLD_DIR / "README.md").is_file()


@pytest.mark.parametrize(
    "note_date",
    ["2026-10-15", dt.date(2026, 10, 15), pd.Timestamp("2026-10-15 08:30"), None],
)
def test_note_date_forms_of_a_callers_frame(note_date: object) -> None:
    notes = pd.DataFrame(
        {
            "note_id": ["x"],
            "person_id": ["p"],
            "note_date": [note_date],
            "note_text": ["DVT 3 weeks ago."],
        }
    )
    facts = extract_facts(notes)
    expected = pd.Timestamp("2026-09-24") if note_date is not None else pd.NaT
    assert facts["event_date"].tolist() == [expected]
