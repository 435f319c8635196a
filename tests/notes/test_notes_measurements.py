"""Value extraction around concept triggers (labs, scores, vitals, biomarkers, drugs).

Each case gives the text, the trigger mentions the concept matcher would
report (``(surface, concept_id)``), and what the measurement component must
attach. ``find_values`` is tested directly, without the rest of the pipeline.
"""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.notes.measurements import Found, find_values

NOTE_DATE = dt.date(2026, 10, 15)


def run(text: str, *triggers: tuple[str, str]) -> list[Found]:
    mentions = []
    for surface, cid in triggers:
        start = text.index(surface)
        mentions.append((start, start + len(surface), cid))
    return find_values(text, sorted(mentions), NOTE_DATE)


def one(found: list[Found], label: str) -> Found:
    hits = [f for f in found if f.label == label]
    assert len(hits) == 1, found
    return hits[0]


@pytest.mark.parametrize(
    ("text", "trigger", "concept", "value", "unit"),
    [
        ("Hgb 9.1 g/dL", "Hgb", "hemoglobin", 91.0, "g/L"),
        ("Hgb 91 g/L", "Hgb", "hemoglobin", 91.0, "g/L"),
        ("hemoglobin of 9.1 today", "hemoglobin", "hemoglobin", 91.0, "g/L"),
        ("Hgb 8.7, plt 88", "Hgb", "hemoglobin", 87.0, "g/L"),
        ("Plt 185 K/uL", "Plt", "platelets", 185.0, "10^9/L"),
        ("platelet count 95,000/mm3", "platelet count", "platelets", 95.0, "10^9/L"),
        ("platelets 198 x10^9/L", "platelets", "platelets", 198.0, "10^9/L"),
        ("ANC 1,500/mm3", "ANC", "neutrophils", 1.5, "10^9/L"),
        ("ANC 0.9", "ANC", "neutrophils", 0.9, "10^9/L"),
        ("ANC 900/mm3", "ANC", "neutrophils", 0.9, "10^9/L"),
        ("WBC 7,400/uL", "WBC", "wbc", 7.4, "10^9/L"),
        ("AST 61 (ULN 40)", "AST", "ast", 1.525, "xULN"),
        ("ALT 55 U/L (ref 10-40)", "ALT", "alt", 1.375, "xULN"),
        ("AST 88 U/L (reference range 5-34)", "AST", "ast", 88 / 34, "xULN"),
        ("AST 22", "AST", "ast", 22.0, "U/L"),
        ("T bili 1.9 mg/dL (ULN 1.2)", "T bili", "bilirubin", 1.9 / 1.2, "xULN"),
        ("TBIL 1.0 mg/dL", "TBIL", "bilirubin", 1.0, "mg/dL"),
        ("creatinine 1.1 mg/dL", "creatinine", "creatinine", 97.24, "umol/L"),
        ("glucose 142 mg/dL", "glucose", "glucose", 142 * 0.0555, "mmol/L"),
        ("random glucose 12.1 mmol/L", "random glucose", "glucose", 12.1, "mmol/L"),
        ("FBG 180 mg/dL", "FBG", "fasting_glucose", 180 * 0.0555, "mmol/L"),
        ("QTc 468 ms", "QTc", "qtc", 468.0, "ms"),
        ("QTcF 452", "QTcF", "qtc", 452.0, "ms"),
        ("eGFR 78 mL/min/1.73m2", "eGFR", "creatinine_clearance", 78.0, "mL/min"),
        ("HBV DNA 250 IU/mL", "HBV DNA", "hbv_dna", 250.0, "IU/mL"),
        ("INR 1.1", "INR", "inr", 1.1, None),
        ("HR 120 bpm", "HR", "heart_rate", 120.0, "bpm"),
        ("her pulse is 87/min", "pulse", "heart_rate", 87.0, "bpm"),
        (
            "respiratory rate 28/min",
            "respiratory rate",
            "respiratory_rate",
            28.0,
            "/min",
        ),
        ("SpO2 86% on room air", "SpO2", "oxygen_saturation", 86.0, "%"),
        ("BMI 32 kg/m2", "BMI", "body_mass_index", 32.0, "kg/m2"),
        (
            "Gestational age 20 weeks",
            "Gestational age",
            "gestational_age",
            20.0,
            "weeks",
        ),
    ],
)
def test_lab_value_in_canonical_unit(
    text: str, trigger: str, concept: str, value: float, unit: str | None
) -> None:
    found = one(run(text, (trigger, concept)), concept)
    assert found.value is not None
    assert found.value.value == pytest.approx(value, rel=1e-4)
    assert found.value.unit == unit
    assert text[found.start : found.end].startswith(trigger)


@pytest.mark.parametrize(
    ("text", "comparator"),
    [("QTc > 480 ms", ">"), ("QTc ≤ 450 ms", "<="), ("QTc of 470 ms", None)],
)
def test_lab_comparator(text: str, comparator: str | None) -> None:
    found = one(run(text, ("QTc", "qtc")), "qtc")
    assert found.value is not None
    assert found.value.comparator == comparator


@pytest.mark.parametrize(
    ("text", "trigger", "concept", "value", "as_string"),
    [
        ("ECOG 2.", "ECOG", "ecog", 2.0, "2"),
        ("ECOG PS 0-1", "ECOG PS", "ecog", 1.0, "0-1"),
        ("ECOG performance status of 1", "ECOG", "ecog", 1.0, "1"),
        ("KPS 80%", "KPS", "kps", 80.0, "80%"),
        ("Karnofsky 60%", "Karnofsky", "kps", 60.0, "60%"),
        ("NYHA class III", "NYHA", "nyha_class", 3.0, "III"),
    ],
)
def test_performance_scores(
    text: str, trigger: str, concept: str, value: float, as_string: str
) -> None:
    found = one(run(text, (trigger, concept)), concept)
    assert found.value is not None
    assert (found.value.value, found.value.value_as_string) == (value, as_string)


def test_out_of_range_score_is_no_value() -> None:
    found = one(run("ECOG 7", ("ECOG", "ecog")), "ecog")
    assert found.value is None


@pytest.mark.parametrize(
    ("text", "trigger", "systolic", "diastolic"),
    [
        ("BP 152/96", "BP", 152.0, 96.0),
        ("Blood pressure 118/76 mmHg.", "Blood pressure", 118.0, 76.0),
        ("BP: 162 / 100 on amlodipine", "BP", 162.0, 100.0),
    ],
)
def test_blood_pressure_gives_two_facts(
    text: str, trigger: str, systolic: float, diastolic: float
) -> None:
    found = run(text, (trigger, "blood_pressure"))
    assert one(found, "systolic_bp").value.value == systolic
    assert one(found, "diastolic_bp").value.value == diastolic
    assert not [f for f in found if f.label == "blood_pressure"]


@pytest.mark.parametrize(
    ("text", "trigger", "concept", "polarity", "number", "positive_fact"),
    [
        ("HER2 negative (IHC 1+).", "HER2", "her2", "negative", 1.0, False),
        ("HER2 3+.", "HER2", "her2", "positive", 3.0, True),
        ("HER2 IHC 0.", "HER2", "her2", "negative", 0.0, False),
        ("HER2 IHC 2+.", "HER2", "her2", "equivocal", 2.0, False),
        ("HER2 IHC 2+, FISH not amplified.", "HER2", "her2", "negative", 2.0, False),
        ("HER-2 2+, FISH amplified.", "HER-2", "her2", "positive", 2.0, True),
        (
            "HER2-positive tumor",
            "HER2-positive",
            "her2_positive",
            "positive",
            None,
            True,
        ),
        ("HER2- disease", "HER2", "her2", "negative", None, False),
        ("MSI-H", "MSI", "msi", "positive", None, False),
        ("MSS.", "MSS", "msi", "negative", None, False),
        ("dMMR", "dMMR", "msi", "positive", None, False),
        ("MMR proficient", "MMR", "msi", "negative", None, False),
        ("KRAS G12D mutant", "KRAS", "ras", "positive", None, False),
        ("NRAS wild-type", "NRAS", "ras", "negative", None, False),
        ("BRAF V600E", "BRAF V600E", "braf", "positive", None, False),
        (
            "Urine pregnancy test negative",
            "Urine pregnancy test",
            "pregnancy_test",
            "negative",
            None,
            False,
        ),
        ("beta-hCG positive", "beta-hCG", "pregnancy_test", "positive", None, False),
    ],
)
def test_biomarker_polarity(
    text: str,
    trigger: str,
    concept: str,
    polarity: str,
    number: float | None,
    positive_fact: bool,
) -> None:
    found = run(text, (trigger, concept))
    marker = "her2" if concept == "her2_positive" else concept
    fact = one(found, marker)
    assert fact.value is not None
    assert (fact.value.value_as_string, fact.value.value) == (polarity, number)
    assert any(f.label == "her2_positive" for f in found) is positive_fact


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [("PD-L1 CPS 5", 5.0, "CPS"), ("PD-L1 TPS 50%", 50.0, "TPS")],
)
def test_pdl1_score(text: str, value: float, unit: str) -> None:
    trigger = text.rsplit(" ", 1)[0]
    fact = one(run(text, (trigger, "pdl1")), "pdl1")
    assert (fact.value.value, fact.value.unit) == (value, unit)


@pytest.mark.parametrize(
    ("text", "triggers", "expected"),
    [
        (
            "s/p 4 cycles of FOLFOX.",
            [("FOLFOX", "folfox")],
            {"folfox": (4.0, "cycles")},
        ),
        ("CAPOX x 6 cycles", [("CAPOX", "capox")], {"capox": (6.0, "cycles")}),
        (
            "8 cycles of adjuvant CAPOX",
            [("CAPOX", "capox")],
            {"capox": (8.0, "cycles")},
        ),
        ("aspirin 81 mg daily", [("aspirin", "aspirin")], {"aspirin": (81.0, "mg/d")}),
        ("aspirin 81 mg", [("aspirin", "aspirin")], {"aspirin": (81.0, "mg")}),
        ("apixaban 5 mg BID", [("apixaban", "apixaban")], {"apixaban": (10.0, "mg/d")}),
        (
            "Coumadin 3 mg p.o. daily.",
            [("Coumadin", "warfarin")],
            {"warfarin": (3.0, "mg/d")},
        ),
        (
            "heparin 5000 units subcutaneously b.i.d.",
            [("heparin", "heparin")],
            {"heparin": (10000.0, "U/d")},
        ),
        (
            "gemcitabine and cisplatin x 8 cycles",
            [("gemcitabine", "gemcitabine"), ("cisplatin", "cisplatin")],
            {"gemcitabine": (8.0, "cycles"), "cisplatin": (8.0, "cycles")},
        ),
        (
            "metoprolol 50 mg and HCTZ 25 mg",
            [("metoprolol", "metoprolol"), ("HCTZ", "hydrochlorothiazide")],
            {"metoprolol": (50.0, "mg"), "hydrochlorothiazide": (25.0, "mg")},
        ),
    ],
)
def test_treatment_cycles_and_dose(
    text: str,
    triggers: list[tuple[str, str]],
    expected: dict[str, tuple[float, str]],
) -> None:
    found = run(text, *triggers)
    for concept, (value, unit) in expected.items():
        fact = one(found, concept)
        assert (fact.value.value, fact.value.unit) == (value, unit)


def test_coordinated_markers_share_polarity() -> None:
    found = run("KRAS and NRAS wild-type", ("KRAS", "ras"), ("NRAS", "ras"))
    assert [f.value.value_as_string for f in found] == ["negative", "negative"]


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("Mrs. Doe is a 71-year-old woman with gastric cancer.", 71.0, "female"),
        ("45 yo F with colon cancer.", 45.0, "female"),
        ("58 yo M presents.", 58.0, "male"),
        ("67 y/o man with CRC.", 67.0, "male"),
        ("Patient aged 63, seen today. He is well; his wife is here.", 63.0, "male"),
        ("Mr. Singh, 71 years old, returns.", 71.0, "male"),
        ("She reports fatigue. Her appetite is poor.", None, "female"),
        ("He said she was fine.", None, None),
    ],
)
def test_age_and_sex(text: str, age: float | None, sex: str | None) -> None:
    found = run(text)
    ages = [f.value.value for f in found if f.label == "age"]
    sexes = [f.value.value_as_string for f in found if f.label == "sex"]
    assert ages == ([age] if age is not None else [])
    assert sexes == ([sex] if sex is not None else [])


@pytest.mark.parametrize(
    ("text", "trigger", "value", "as_string"),
    [
        ("stage IVB esophageal cancer", "stage", 4.0, "IVB"),
        ("clinical stage III, locally advanced", "stage", 3.0, "III"),
        ("Stage 2 disease", "Stage", 2.0, "2"),
        ("metastatic adenocarcinoma (pT3N1M1)", None, None, "pT3N1M1"),
        ("cT4a N2 M0 gastric cancer", None, None, "cT4a N2 M0"),
    ],
)
def test_stage(
    text: str, trigger: str | None, value: float | None, as_string: str
) -> None:
    triggers = [(trigger, "cancer_stage")] if trigger else []
    fact = one(run(text, *triggers), "cancer_stage")
    assert (fact.value.value, fact.value.value_as_string) == (value, as_string)


def test_bare_stage_word_is_no_fact() -> None:
    assert run("early stage disease", ("stage", "cancer_stage")) == []


def test_histology_of_a_diagnosis() -> None:
    text = "gastric adenocarcinoma, poorly differentiated"
    fact = one(
        run(text, ("gastric adenocarcinoma", "gastric_cancer")), "gastric_cancer"
    )
    assert fact.value.value_as_string == "adenocarcinoma"


@pytest.mark.parametrize(
    ("text", "trigger", "concept", "event_date", "past"),
    [
        (
            "PE diagnosed last March.",
            "PE",
            "pulmonary_embolism",
            dt.date(2026, 3, 1),
            True,
        ),
        (
            "PE diagnosed 3 weeks ago.",
            "PE",
            "pulmonary_embolism",
            dt.date(2026, 9, 24),
            True,
        ),
        ("He had a PE years ago.", "PE", "pulmonary_embolism", None, True),
        ("DVT in 2017.", "DVT", "dvt", dt.date(2017, 1, 1), True),
        ("Hgb 9.1 on 10/10/2026.", "Hgb", "hemoglobin", dt.date(2026, 10, 10), False),
        (
            "colectomy on 2025-06-12",
            "colectomy",
            "major_surgery",
            dt.date(2025, 6, 12),
            True,
        ),
    ],
)
def test_event_dates_resolved_against_note_date(
    text: str, trigger: str, concept: str, event_date: dt.date | None, past: bool
) -> None:
    fact = one(run(text, (trigger, concept)), concept)
    assert fact.value is not None
    assert (fact.value.event_date, fact.value.past) == (event_date, past)


def test_date_in_another_clause_is_not_attached() -> None:
    text = "PE on apixaban. Labs on 2026-10-01 were normal."
    fact = one(run(text, ("PE", "pulmonary_embolism")), "pulmonary_embolism")
    assert fact.value is None


def test_nearest_date_phrase_wins() -> None:
    text = "PE years ago, DVT 3 weeks ago"
    found = run(text, ("PE", "pulmonary_embolism"), ("DVT", "dvt"))
    pe = one(found, "pulmonary_embolism")
    assert pe.value.event_date is None and pe.value.past
    assert one(found, "dvt").value.event_date == dt.date(2026, 9, 24)


def test_plain_mention_passes_through() -> None:
    found = run("History of hypertension.", ("hypertension", "hypertension"))
    assert found == [Found(11, 23, "hypertension", None)]


def test_header_restated_with_value_is_one_fact() -> None:
    text = "PERFORMANCE STATUS: ECOG 1."
    found = run(text, ("PERFORMANCE STATUS", "ecog"), ("ECOG", "ecog"))
    assert [(f.label, f.value.value) for f in found] == [("ecog", 1.0)]


@pytest.mark.parametrize(
    ("text", "trigger", "concept", "extra"),
    [
        (
            "with liver and lung metastases",
            "lung metastases",
            "lung_metastases",
            {"liver_metastases"},
        ),
        (
            "bone, hepatic and lung metastases",
            "lung metastases",
            "lung_metastases",
            {"bone_metastases", "liver_metastases"},
        ),
        (
            "lung nodules and liver metastases",
            "liver metastases",
            "liver_metastases",
            set(),
        ),
    ],
)
def test_coordinated_metastatic_sites(
    text: str, trigger: str, concept: str, extra: set[str]
) -> None:
    labels = {f.label for f in run(text, (trigger, concept))}
    assert labels == {concept} | extra


@pytest.mark.parametrize(
    ("text", "trigger", "concept"),
    [
        ("Neutrophils were 81%.", "Neutrophils", "neutrophils"),
        ("WBC 11%", "WBC", "wbc"),
    ],
)
def test_percentages_are_not_counts(text: str, trigger: str, concept: str) -> None:
    assert one(run(text, (trigger, concept)), concept).value is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Hgb",
                "9.1",
                "g/dL",
                "HER2",
                "3+",
                "(",
                ")",
                "ULN",
                "40",
                "/",
                "BP",
                "152/96",
                "ECOG",
                "2",
                "x",
                "cycles",
                "of",
                "FOLFOX",
                "ago",
                "3 weeks",
                "2026-13-45",
                "last",
                "March",
                ",",
                ".",
                ";",
                "\n",
                "and",
                "stage",
                "IV",
                "woman",
                "45",
                "yo",
                "F",
                "she",
                "-",
                "%",
                "mg",
            ]
        ),
        max_size=30,
    )
)
def test_find_values_never_fails_and_stays_in_the_text(words: list[str]) -> None:
    text = " ".join(words)
    triggers = {
        "Hgb": "hemoglobin",
        "HER2": "her2",
        "BP": "blood_pressure",
        "ECOG": "ecog",
        "FOLFOX": "folfox",
        "stage": "cancer_stage",
    }
    mentions = []
    pos = 0
    for word in words:
        start = text.index(word, pos)
        pos = start + len(word)
        if word in triggers:
            mentions.append((start, pos, triggers[word]))
    for found in find_values(text, mentions, NOTE_DATE):
        assert 0 <= found.start < found.end <= len(text)


@pytest.mark.parametrize(
    ("text", "event_date"),
    [
        (
            "Pancreatic cancer, stage III. He was diagnosed in July 2026.",
            dt.date(2026, 7, 1),
        ),
        ("Pancreatic cancer. Diabetes diagnosed in 2019.", None),
        ("Pancreatic cancer. Seen in July 2026.", None),
    ],
)
def test_diagnosis_date_from_the_next_clause(
    text: str, event_date: dt.date | None
) -> None:
    triggers = [("Pancreatic cancer", "pancreatic_cancer")]
    if "Diabetes" in text:
        triggers.append(("Diabetes", "diabetes"))
    fact = one(run(text, *triggers), "pancreatic_cancer")
    assert (fact.value.event_date if fact.value else None) == event_date


def test_date_between_lab_name_and_value() -> None:
    fact = one(
        run("Hgb on 11/15/2026 was 7.9 g/dL", ("Hgb", "hemoglobin")), "hemoglobin"
    )
    assert (fact.value.value, fact.value.event_date) == (79.0, dt.date(2026, 11, 15))


@pytest.mark.parametrize(
    ("text", "past"),
    [("on FOLFOX since 2026-09-01", False), ("FOLFOX from 2026-05-01", True)],
)
def test_since_a_date_is_ongoing(text: str, past: bool) -> None:
    fact = one(run(text, ("FOLFOX", "folfox")), "folfox")
    assert fact.value.past is past


@pytest.mark.parametrize(
    ("text", "event_date"),
    [
        ("LABS (12/08/2026):\nWBC 3.2\nHGB 10.1 g/dL\n", dt.date(2026, 12, 8)),
        ("LABS:\nWBC 3.2\nHGB 10.1 g/dL\n", None),
        ("Seen 12/08/2026.\n\nHGB 10.1 g/dL\n", None),
    ],
)
def test_lab_table_takes_its_header_date(text: str, event_date: dt.date | None) -> None:
    fact = one(run(text, ("HGB", "hemoglobin")), "hemoglobin")
    assert fact.value.event_date == event_date


@pytest.mark.parametrize(
    ("text", "trigger", "value"),
    [
        ("A 27-year-old woman at 11 weeks gestation.", "weeks gestation", 11.0),
        ("She is 30 weeks of gestation.", "weeks of gestation", 30.0),
        ("Gestation 1,5 weeks gestation", "weeks gestation", None),
    ],
)
def test_value_written_before_its_name(
    text: str, trigger: str, value: float | None
) -> None:
    found = one(run(text, (trigger, "gestational_age")), "gestational_age")
    assert (found.value.value if found.value else None) == value
    if value is not None:
        assert text[found.start : found.end] == f"{value:g} {trigger}"
