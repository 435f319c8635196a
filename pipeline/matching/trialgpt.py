"""Criterion-level agreement with TrialGPT's expert labels (Jin et al. 2024).

Each row of the file pairs a patient summary (``note``) with one criterion and
an expert label. We parse the criterion (criteria stage), extract facts from the
summary (notes stage), assess, and map our status to TrialGPT's labels
(:data:`LABELS`). The split is held out BY PATIENT: a patient is in ``test``
when the first byte of SHA-256(patient_id) is below :data:`TEST_BYTE`
(about a third of patients), so no patient's sentences inform both sides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from pipeline import errors
from pipeline.matching.assess import (
    Patient,
    assess,
    compile_criterion,
    trial_population,
)
from pipeline.matching.facts import PersonFacts, index_facts
from pipeline.matching.match import patient_of
from pipeline.schema import Criterion, CriterionAssessment, NoteFact

LABELS: dict[str, dict[str, str]] = {
    "inclusion": {
        "met": "included",
        "not_met": "not included",
        "unknown": "not enough information",
        "not_applicable": "not applicable",
    },
    "exclusion": {
        "met": "excluded",
        "not_met": "not excluded",
        "unknown": "not enough information",
        "not_applicable": "not applicable",
    },
}
BASELINE = {"inclusion": "not enough information", "exclusion": "not excluded"}
TEST_BYTE = 96  # 96/256 = 37.5% of patients held out
BOOTSTRAP_RESAMPLES = 2000
SPLITS = ("all", "test", "train")
# Summaries carry no dates: every statement is read as of this day.
SUMMARY_DATE = dt.date(2026, 11, 1)
_FIELDS = (
    "patient_id",
    "note",
    "criterion_type",
    "criterion_text",
    "expert_eligibility",
)


def in_test(patient_id: str) -> bool:
    """The deterministic by-patient split (module docstring)."""
    return hashlib.sha256(patient_id.encode("utf-8")).digest()[0] < TEST_BYTE


@dataclass
class TrialGPTResult:
    """Gold and predicted labels of one split, with the baseline's answers."""

    split: str
    kinds: list[str]
    gold: list[str]
    predicted: list[str]
    patient_ids: list[str]

    @property
    def patients(self) -> int:
        """How many patients the judgements are about."""
        return len(set(self.patient_ids))

    @property
    def baseline(self) -> list[str]:
        return [BASELINE[k] for k in self.kinds]

    def interval(
        self, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
    ) -> tuple[tuple[float, float], tuple[float, float]]:
        """95 % intervals of accuracy and macro-F1 by a patient bootstrap.

        Judgements of one patient share a summary and often a trial, so they
        are not independent: patients are drawn with replacement (Efron's
        percentile bootstrap over clusters), each bringing all its judgements.
        """
        by_patient: dict[str, list[int]] = {}
        for i, pid in enumerate(self.patient_ids):
            by_patient.setdefault(pid, []).append(i)
        groups = list(by_patient.values())
        rng = np.random.default_rng(seed)
        drawn: list[tuple[float, float]] = []
        for _ in range(resamples):
            rows = [
                i
                for g in rng.integers(len(groups), size=len(groups))
                for i in groups[g]
            ]
            drawn.append(
                scores([self.gold[i] for i in rows], [self.predicted[i] for i in rows])
            )
        low, high = np.percentile(np.array(drawn), [2.5, 97.5], axis=0)
        return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def load_rows(path: Path, split: str) -> list[dict]:
    """The rows of ``split`` from a TrialGPT criterion-level JSON file."""
    if split not in SPLITS:
        raise errors.bad_choice(split, "--split", list(SPLITS))
    if not path.is_file():
        raise errors.file_not_found(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise errors.bad_trialgpt(path, f"not JSON: {exc}") from exc
    if not isinstance(rows, list) or not rows:
        raise errors.bad_trialgpt(path, "expected a non-empty JSON list")
    for i, row in enumerate(rows):
        missing = [f for f in _FIELDS if not isinstance(row, dict) or f not in row]
        if missing:
            raise errors.bad_trialgpt(path, f"row {i} lacks {', '.join(missing)}")
        if row["criterion_type"] not in LABELS:
            raise errors.bad_trialgpt(path, f"row {i} has kind {row['criterion_type']}")
    if split == "all":
        return rows
    return [r for r in rows if in_test(r["patient_id"]) == (split == "test")]


@dataclass
class Judgement:
    """One row of the file assessed by the rules."""

    kind: str
    gold: str
    patient_id: str
    assessment: CriterionAssessment

    @property
    def label(self) -> str:
        """The rule-based status mapped to TrialGPT's label."""
        return LABELS[self.kind][self.assessment.status]


def judgements(rows: list[dict]) -> list[Judgement]:
    """Assess every (summary, criterion) row with the rules."""
    from pipeline.criteria import parse_criteria
    from pipeline.notes import facts_from_text

    parsed: dict[int, Criterion] = {}
    for kind in LABELS:
        index = [i for i, r in enumerate(rows) if r["criterion_type"] == kind]
        # One row of the dev file has no criterion text: it is read as empty.
        texts = [rows[i]["criterion_text"] or "" for i in index]
        ids = [f"{kind[:3]}-{i}" for i in index]
        parsed.update(zip(index, parse_criteria(texts, kind, ids), strict=True))
    # A criterion is read in its trial's context, as the match command reads
    # it: "pregnancy women affected by thalassemia" excludes thalassemia in a
    # trial of pregnant women, not pregnancy. The context is the trial's
    # inclusions that the file holds.
    by_trial: dict[str | None, list[Criterion]] = {}
    for i, row in enumerate(rows):
        by_trial.setdefault(row.get("trial_id"), []).append(parsed[i])
    population = {tid: trial_population(cs) for tid, cs in by_trial.items()}
    # None for a summary from which no fact is extracted.
    people: dict[str, tuple[PersonFacts, Patient] | None] = {}
    out = []
    for i, row in enumerate(rows):
        pid = row["patient_id"]
        if pid not in people:
            facts = facts_from_text(
                row["note"], note_id=pid, person_id=pid, note_date=SUMMARY_DATE
            )
            frame = pd.DataFrame(
                [f.model_dump() for f in facts], columns=list(NoteFact.model_fields)
            )
            pf = index_facts(frame, SUMMARY_DATE).get(pid)
            people[pid] = (
                None if pf is None else (pf, patient_of(pf, None, SUMMARY_DATE))
            )
        person = people[pid]
        criterion = parsed[i]
        if person is None:
            assessment = CriterionAssessment(
                criterion_id=criterion.id,
                kind=criterion.kind,
                text=criterion.text,
                status="unknown",
                rationale="No fact was extracted from the summary.",
            )
        else:
            wanted, named = population[row.get("trial_id")]
            compiled = compile_criterion(criterion, None, wanted, named)
            assessment = assess([compiled], *person)[0]
        out.append(
            Judgement(
                row["criterion_type"],
                row["expert_eligibility"],
                pid,
                assessment,
            )
        )
    return out


def evaluate(path: Path, split: str = "all") -> TrialGPTResult:
    """Assess every (summary, criterion) row of ``split``; labels side by side."""
    judged = judgements(load_rows(path, split))
    return TrialGPTResult(
        split,
        [j.kind for j in judged],
        [j.gold for j in judged],
        [j.label for j in judged],
        [j.patient_id for j in judged],
    )


def scores(gold: list[str], predicted: list[str]) -> tuple[float, float]:
    """Accuracy and macro-F1 over the labels present in ``gold``."""
    if not gold:
        return 0.0, 0.0
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    labels = sorted(set(gold))
    macro = f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
    return accuracy, float(macro)


def format_report(result: TrialGPTResult) -> str:
    """Counts per label, the confusion matrix, the baseline, and the score line."""
    labels = sorted(set(result.gold) | set(result.predicted))
    gold_n, pred_n = Counter(result.gold), Counter(result.predicted)
    width = max(len(label) for label in labels) + 2
    lines = [
        f"split={result.split}: {len(result.gold)} judgements, "
        f"{result.patients} patients",
        f"{'label':<{width}}{'gold':>6}{'ours':>6}",
    ]
    lines += [
        f"{label:<{width}}{gold_n[label]:>6}{pred_n[label]:>6}" for label in labels
    ]
    short = {label: "".join(w[0] for w in label.split()) for label in labels}
    lines.append(
        "confusion (rows gold, columns ours): "
        + ", ".join(f"{s}={label}" for label, s in short.items())
    )
    lines.append(" " * width + "".join(f"{short[label]:>6}" for label in labels))
    pairs = Counter(zip(result.gold, result.predicted, strict=True))
    for g in labels:
        lines.append(f"{g:<{width}}" + "".join(f"{pairs[(g, p)]:>6}" for p in labels))
    base_acc, base_f1 = scores(result.gold, result.baseline)
    lines.append(
        f"baseline (not excluded / not enough information): accuracy={base_acc:.3f} "
        f"macro_f1={base_f1:.3f}"
    )
    (acc_low, acc_high), (f1_low, f1_high) = result.interval()
    lines.append(
        f"95% interval, {BOOTSTRAP_RESAMPLES} resamples of the {result.patients} "
        f"patients: accuracy {acc_low:.3f}-{acc_high:.3f} "
        f"macro_f1 {f1_low:.3f}-{f1_high:.3f}"
    )
    acc, macro = scores(result.gold, result.predicted)
    lines.append(
        f"trialgpt: accuracy={acc:.3f} macro_f1={macro:.3f} n={len(result.gold)}"
    )
    return "\n".join(lines)
