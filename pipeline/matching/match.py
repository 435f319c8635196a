"""One trial against a note archive: assess, decide, score and rank every patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.collector import collector_paused
from pipeline.matching.assess import (
    Patient,
    TrialAssessor,
    compile_trial,
    trusted,
)
from pipeline.matching.facts import PersonFacts, index_facts
from pipeline.matching.ranker import PatientRanker, features, load_ranker, score_rows
from pipeline.matching.rules import load_rules
from pipeline.matching.verdict import VERDICT_ORDER, deciding_criterion, verdict
from pipeline.schema import CriterionAssessment, PatientMatch, Person, Sex, Trial

BATCH = 4096  # patients indexed and scored at once: vectorised, yet bounded


@dataclass(frozen=True, slots=True)
class _Assessed:
    person_id: str
    criteria: list[CriterionAssessment]
    top: list[CriterionAssessment]


def age_on(person: Person | None, as_of: dt.date) -> float | None:
    """Whole years of age on ``as_of`` from the person table, if it gives them."""
    if person is None:
        return None
    if person.birth_date is not None:
        b = person.birth_date
        return float(
            as_of.year - b.year - ((as_of.month, as_of.day) < (b.month, b.day))
        )
    if person.year_of_birth is not None:
        return float(as_of.year - person.year_of_birth)
    return None


def _sex_from_facts(pf: PersonFacts) -> Sex | None:
    rules = load_rules()
    for cid in rules.sex_concepts:
        for f in pf.by_concept.get(cid, []):
            word = (f.value_string or f.lexical_variant or cid).strip().lower()
            if word in rules.female_words or cid == "female":
                return "female"
            if word in rules.male_words or cid == "male":
                return "male"
    return None


def _age_from_facts(pf: PersonFacts) -> float | None:
    ages = [f for f in pf.by_concept.get("age", []) if f.value is not None]
    if not ages:
        return None
    return max(ages, key=lambda f: f.note_date or dt.date.min).value


def patient_of(pf: PersonFacts, person: Person | None, as_of: dt.date) -> Patient:
    """Age and sex from the person table when given, else from the notes' facts."""
    sex = person.sex if person is not None and person.sex else _sex_from_facts(pf)
    age = age_on(person, as_of)
    if age is not None:
        return Patient(pf.person_id, sex, age, as_of)
    return Patient(pf.person_id, sex, _age_from_facts(pf), as_of, "stated in the notes")


def match_trial(
    trial: Trial,
    facts: pd.DataFrame,
    persons: dict[str, Person],
    as_of: dt.date,
    ranker: PatientRanker | Literal["trained"] | None = "trained",
) -> list[PatientMatch]:
    """Every patient with note facts, assessed against ``trial``, best first.

    Patients are ordered by verdict (candidate, review, excluded), then by score
    (the trained ranker's calibrated probability, else the fallback formula),
    then by person id. Persons without any fact are not scored (the caller
    reports them). ``ranker="trained"`` uses the model under ``models/ranker/``
    when there is one; ``None`` forces the fallback score.
    """
    matches = list(score_patients(trial, facts, persons, as_of, ranker))
    matches.sort(key=lambda m: (VERDICT_ORDER[m.verdict], -m.score, m.person_id))
    return matches


def score_patients(
    trial: Trial,
    facts: pd.DataFrame,
    persons: dict[str, Person],
    as_of: dt.date,
    ranker: PatientRanker | Literal["trained"] | None = "trained",
) -> Iterator[PatientMatch]:
    """Each patient with note facts, assessed, given a verdict and scored, by id.

    The stream under :func:`match_trial` (which only orders it): patients are
    indexed and scored in batches, so the ranker runs vectorised while a caller
    that only counts or writes the matches never holds them all.
    """
    assessor = TrialAssessor(compile_trial(trial))
    model = load_ranker() if ranker == "trained" else ranker
    # Scoring allocates millions of small objects that form no reference
    # cycles (facts, parts, records); what it leaves alive is results, held
    # until the caller drops them: frozen, so later collections skip them.
    with collector_paused(freeze_survivors=True):
        for batch in _person_batches(facts):
            indexed = index_facts(batch, as_of)
            if not indexed:
                continue  # no fact on or before as_of: nothing to score or rank
            assessed = [
                _assess_person(assessor, indexed[pid], persons.get(pid), as_of)
                for pid in sorted(indexed)
            ]
            yield from _scored(trial, assessed, model)


def _person_batches(facts: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """The facts of ``BATCH`` persons at a time, in person-id order.

    Only one batch is indexed at a time, so the indexed facts of an archive are
    never all in memory. A frame without persons is passed on whole for
    :func:`index_facts` to check its columns.
    """
    if "person_id" not in facts.columns or facts.empty:
        yield facts
        return
    codes, _ = pd.factorize(facts["person_id"].astype(str), sort=True)
    for _, batch in facts.groupby(codes // BATCH, sort=True):
        yield batch


def _assess_person(
    assessor: TrialAssessor, pf: PersonFacts, person: Person | None, as_of: dt.date
) -> _Assessed:
    criteria = assessor(pf, patient_of(pf, person, as_of))
    return _Assessed(pf.person_id, criteria, assessor.top(criteria))


def _scored(
    trial: Trial, assessed: list[_Assessed], ranker: PatientRanker | None
) -> list[PatientMatch]:
    """Verdicts and scores (batched through the ranker), in the given order."""
    rows = np.array([features(a.top) for a in assessed], dtype=float)
    scores = score_rows(rows.reshape(len(assessed), -1), ranker)
    return [
        trusted(
            PatientMatch,
            {
                "person_id": a.person_id,
                "trial_id": trial.trial_id,
                "verdict": verdict(a.top),
                "score": round(float(s), 4),
                "criteria": a.criteria,
            },
        )
        for a, s in zip(assessed, scores, strict=True)
    ]


def deciding(match: PatientMatch, trial: Trial) -> str | None:
    """The criterion that decides ``match``'s verdict (None for a candidate)."""
    return deciding_criterion(
        match.criteria,
        [c.id for c in trial.criteria],
        {c.id: c.combine for c in trial.all_criteria()},
    )
