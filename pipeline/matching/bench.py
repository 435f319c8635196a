"""``trialmatch bench match``: patients scored per second on generated note facts.

Facts are synthesised directly in NOTE_NLP shape (no note text), drawing
concepts the trial's criteria name plus lab values around their limits, so the
timing measures matching alone: indexing, assessment, verdict, score.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.matching.assess import compile_trial
from pipeline.matching.match import score_patients
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
    "fasting_glucose": (4.0, 14.0, "mmol/L"),
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
    # Columns are drawn as codes into per-concept (per-day) tables, so a large
    # bench shares one object per distinct value instead of one per row.
    kinds = [*_LABS, *named]
    code = np.where(
        is_lab,
        rng.integers(0, len(_LABS), n),
        len(_LABS) + rng.integers(0, len(named), n),
    )
    concept = pd.Categorical.from_codes(code, categories=kinds)
    low = np.array([_LABS[c][0] if c in _LABS else 0.0 for c in kinds])[code]
    high = np.array([_LABS[c][1] if c in _LABS else 0.0 for c in kinds])[code]
    value = np.where(is_lab, np.round(low + rng.random(n) * (high - low), 1), np.nan)
    unit = _table([_LABS[c][2] if c in _LABS else None for c in kinds], code)
    days = rng.integers(0, 400, n)
    note_date = _table([AS_OF - dt.timedelta(days=d) for d in range(400)], days)
    negated = (~is_lab) & (rng.random(n) < 0.4)
    # Fixed-width strings as narrow as the numbers (astype(str) would be 21 wide).
    pid = np.char.add("G", person.astype(f"U{len(str(n_patients))}"))
    return pd.DataFrame(
        {
            "note_nlp_id": np.arange(n),
            "note_id": np.char.add(pid, np.char.add("-", (days // 30).astype("U2"))),
            "person_id": pid,
            "note_date": note_date,
            "section": None,
            "snippet": concept,
            "offset": 0,
            "offset_end": 5,
            "lexical_variant": concept,
            "concept_id": concept,
            "concept_code": None,
            "domain": _table([vocab[c].domain for c in kinds], code),
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


def _table(values: list, codes: np.ndarray) -> np.ndarray:
    """``values[code]`` for every code, as an object array sharing the values."""
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[codes]


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench(trial_path: Path, n_patients: int) -> str:
    """Time the scoring under :func:`match_trial` on generated patients; one line.

    The facts are generated before the clock starts. The matches are counted as
    they stream out of :func:`score_patients` rather than held and sorted (the
    only step :func:`match_trial` adds), so peak memory is that of scoring.
    Both CPU time (steadier on a shared machine) and wall time are reported, and
    the peak RSS before scoring beside the final one.
    """
    from pipeline.criteria import parse_trial

    trial = parse_trial(trial_path)
    facts = synthetic_facts(trial, n_patients)
    generated_mb = _peak_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    verdicts = Counter(m.verdict for m in score_patients(trial, facts, {}, AS_OF))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return (
        f"bench match: {n_patients} patients x {len(trial.all_criteria())} criteria, "
        f"{len(facts)} facts: {n_patients / cpu:,.0f} patients/s of CPU "
        f"({cpu:.2f} s), {n_patients / wall:,.0f} patients/s wall ({wall:.2f} s), "
        f"1 process; verdicts {dict(sorted(verdicts.items()))}; "
        f"peak RSS {_peak_mb():.0f} MB ({generated_mb:.0f} MB once the trial was "
        "parsed and the facts generated)"
    )
