"""A patient's match does not depend on the patients scored before it.

Scoring shares work between patients: records and parts that depend only on
the patient's sex, age and note count are built once per compiled criterion
(and, for the criteria a patient's notes never touch, once per trial),
evidence once per fact. Each patient is scored here both in one batch with all
the others and alone (a fresh compile, nothing shared), and the JSON must be
identical, on the bundled sample archive (facts from the notes stage) and on
generated patients with varied sex and age.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SEED

from pipeline.matching.assess import TrialAssessor, assess, compile_trial
from pipeline.matching.bench import synthetic_facts
from pipeline.matching.facts import index_facts
from pipeline.matching.match import patient_of, score_patients
from pipeline.matching.ranker import PatientRanker, load_ranker
from pipeline.schema import Person, Trial

ARCHIVE = ROOT / "annotations" / "sample_archive"
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def seed() -> Trial:
    from pipeline.criteria import parse_trial

    return parse_trial(SEED)


def _sample(trial: Trial) -> tuple[pd.DataFrame, dict[str, Person]]:
    from pipeline.notes import extract_facts, read_notes

    notes = read_notes(str(ARCHIVE / "notes.csv"), persons=str(ARCHIVE / "persons.csv"))
    return extract_facts(notes.notes), notes.persons


def _generated(trial: Trial) -> tuple[pd.DataFrame, dict[str, Person]]:
    facts = synthetic_facts(trial, 240, seed=7)
    rng = np.random.default_rng(7)
    # Few distinct sexes, ages and note counts, so patients alike in them
    # follow one another and reuse what was built for the first.
    persons = {
        pid: Person(
            person_id=pid,
            sex=[None, "female", "male"][rng.integers(3)],
            year_of_birth=int(rng.choice([1940, 1960, 2010])) if i % 4 else None,
        )
        for i, pid in enumerate(sorted(set(facts["person_id"])))
    }
    return facts, persons


def _alone(
    trial: Trial,
    facts: pd.DataFrame,
    persons: dict[str, Person],
    ranker: PatientRanker | None,
) -> list[str]:
    out: list[str] = []
    for _, rows in facts.groupby(facts["person_id"].astype(str), sort=True):
        matches = score_patients(trial, rows, persons, AS_OF, ranker)
        out.extend(m.to_json() for m in matches)
    return out


@pytest.mark.parametrize("source", [_sample, _generated], ids=["sample", "generated"])
def test_each_patient_scores_alike_alone_and_in_a_batch(seed: Trial, source) -> None:
    facts, persons = source(seed)
    ranker = load_ranker()
    batch = [m.to_json() for m in score_patients(seed, facts, persons, AS_OF, ranker)]
    assert len(batch) == facts["person_id"].nunique()
    assert batch == _alone(seed, facts, persons, ranker)


@pytest.mark.parametrize("source", [_sample, _generated], ids=["sample", "generated"])
def test_the_trial_assessor_gives_what_assess_gives(seed: Trial, source) -> None:
    """:class:`TrialAssessor` starts each patient from the records of a patient
    alike without facts; :func:`assess` (fresh compile per patient) does not."""
    facts, persons = source(seed)
    assessor = TrialAssessor(compile_trial(seed))
    for pid, pf in sorted(index_facts(facts, AS_OF).items()):
        patient = patient_of(pf, persons.get(pid), AS_OF)
        shared = [a.to_json() for a in assessor(pf, patient)]
        alone = [a.to_json() for a in assess(compile_trial(seed), pf, patient)]
        assert shared == alone, pid


def test_an_archive_without_facts_scores_no_patient(seed: Trial) -> None:
    # Notes that all yield nothing ("x", a blank template) used to crash the
    # ranker on an empty batch instead of reporting every patient skipped.
    empty = synthetic_facts(seed, 3).iloc[:0]
    assert list(score_patients(seed, empty, {}, AS_OF)) == []
