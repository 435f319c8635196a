"""``trialmatch bench match``: patients scored per second on generated note facts.

Facts are synthesised directly in NOTE_NLP shape (no note text), drawing
concepts the trial's criteria name plus lab values around their limits, so the
timing measures matching alone: indexing, assessment, verdict, score, rank.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.matching.assess import compile_trial
from pipeline.matching.match import match_trial
from pipeline.schema import NoteFact, Trial
from pipeline.vocabulary import load_vocabulary

AS_OF = dt.date(2026, 11, 1)
FACTS_PER_PATIENT = 12
_LABS = {
    "hemoglobin": (70.0, 150.0, "g/L"),
    "neutrophils": (0.5, 6.0, "10^9/L"),
    "platelets": (50.0, 400.0, "10^9/L"),
    "ecog": (0.0, 3.0, None),
    "qtc": (390.0, 490.0, "ms"),
    "systolic_bp": (100.0, 170.0, "mmHg"),
    "glucose": (4.0, 14.0, "mmol/L"),
}


def synthetic_facts(trial: Trial, n_patients: int, seed: int = 0) -> pd.DataFrame:
    """A NOTE_NLP frame of ``n_patients`` generated patients (12 facts each)."""
    rng = np.random.default_rng(seed)
    vocab = load_vocabulary()
    named = sorted(
        {c for comp in compile_trial(trial) for c in comp.concepts if c in vocab}
        - set(_LABS)
    )
    n = n_patients * FACTS_PER_PATIENT
    person = np.repeat(np.arange(n_patients), FACTS_PER_PATIENT)
    is_lab = rng.random(n) < 0.5
    lab_names = np.array(list(_LABS))
    concept = np.where(
        is_lab,
        lab_names[rng.integers(0, len(lab_names), n)],
        np.array(named)[rng.integers(0, len(named), n)],
    )
    low = np.array([_LABS[c][0] if c in _LABS else 0.0 for c in concept])
    high = np.array([_LABS[c][1] if c in _LABS else 0.0 for c in concept])
    value = np.where(is_lab, np.round(low + rng.random(n) * (high - low), 1), np.nan)
    unit = [(_LABS[c][2] if c in _LABS else None) for c in concept]
    days = rng.integers(0, 400, n)
    note_date = [AS_OF - dt.timedelta(days=int(d)) for d in days]
    negated = (~is_lab) & (rng.random(n) < 0.4)
    pid = np.char.add("G", person.astype(str))
    return pd.DataFrame(
        {
            "note_nlp_id": np.arange(n),
            "note_id": np.char.add(pid, np.char.add("-", (days // 30).astype(str))),
            "person_id": pid,
            "note_date": note_date,
            "section": None,
            "snippet": concept,
            "offset": 0,
            "offset_end": 5,
            "lexical_variant": concept,
            "concept_id": concept,
            "concept_code": None,
            "domain": [vocab[c].domain for c in concept],
            "nlp_system": "bench",
            "nlp_date": AS_OF,
            "term_exists": ~negated,
            "term_temporal": None,
            "term_modifiers": np.where(negated, "negated", ""),
            "negated": negated,
            "historical": False,
            "hypothetical": False,
            "family": False,
            "uncertain": (~is_lab) & (rng.random(n) < 0.03),
            "value_as_number": value,
            "value_as_string": None,
            "unit": unit,
            "comparator": None,
            "event_date": None,
        },
        columns=list(NoteFact.model_fields),
    )


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench(trial_path: Path, n_patients: int) -> str:
    """Time :func:`match_trial` on generated patients; one summary line."""
    from pipeline.criteria import parse_trial

    trial = parse_trial(trial_path)
    facts = synthetic_facts(trial, n_patients)
    start = time.perf_counter()
    matches = match_trial(trial, facts, {}, AS_OF)
    seconds = time.perf_counter() - start
    verdicts = pd.Series([m.verdict for m in matches]).value_counts().to_dict()
    return (
        f"bench match: {n_patients} patients x {len(trial.all_criteria())} criteria, "
        f"{len(facts)} facts in {seconds:.2f} s = {n_patients / seconds:,.0f} "
        f"patients/s (1 process); verdicts {verdicts}; peak RSS {_peak_mb():.0f} MB"
    )
