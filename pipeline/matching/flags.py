"""Precision of the evidence a reviewer is shown, against a reviewer's judgements.

A *flag* is what sends a reviewer to a note: a top-level exclusion that is met
or unknown, or an inclusion that is met, on the evidence of a note. Each flag
is keyed by the trial, the criterion and its first evidence item (note id and
character offset). A judgement says whether that evidence, read in its note,
shows what the criterion names about this patient (``correct``) or not (a risk
listed in a consent discussion, the surgical field's bleeding, a procedure's
consent). Precision is correct flags over judged flags; flags without a
judgement are counted, never guessed. The HTML report's review buttons write
judgements in this form; :func:`evaluate_results` scores any run's flags.

:func:`evaluate_flags` measures the rules on MTSamples transcriptions
(``../shared/data/mtsamples-401.csv``), one patient per transcription, all
dated :data:`NOTE_DATE`. The split is fixed by the row's index: a row is in
``test`` when the MD5 digest of its index is odd (about half); the rules were
only ever changed for errors seen on ``train``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from pipeline import errors
from pipeline.schema import CriterionAssessment, PatientMatch
from pipeline.textio import read_user_records

NOTE_DATE = dt.date(2026, 10, 1)
AS_OF = dt.date(2026, 11, 1)
SPLITS = ("all", "train", "test")
_MTSAMPLES_COLUMNS = ("sample_name", "transcription")
# What identifies a flag, and so its judgement: the report writes these fields.
KEY_FIELDS = ("trial_id", "criterion_id", "note_id", "start")
FlagKey = tuple[str, str, str, int]


def _key(record: object) -> FlagKey:
    trial_id, criterion_id, note_id, start = (getattr(record, f) for f in KEY_FIELDS)
    return (trial_id, criterion_id, note_id, start)


class FlagJudgement(BaseModel):
    """A reviewer's reading of one flag's evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trial_id: str
    criterion_id: str
    note_id: str
    start: int
    correct: bool

    @property
    def key(self) -> FlagKey:
        return _key(self)


@dataclass(frozen=True)
class Flag:
    """A criterion that sends the reviewer to a note, and where."""

    trial_id: str
    person_id: str
    criterion_id: str
    status: str
    note_id: str
    start: int

    @property
    def key(self) -> FlagKey:
        return _key(self)


def in_test(index: int) -> bool:
    """The deterministic split of MTSamples rows (module docstring)."""
    return hashlib.md5(str(index).encode("ascii")).digest()[-1] % 2 == 1


def mtsamples_notes(path: Path, split: str) -> pd.DataFrame:
    """The rows of ``split`` as OMOP NOTE rows (one person per transcription)."""
    if split not in SPLITS:
        raise errors.bad_choice(split, "--split", list(SPLITS))
    if not path.is_file():
        raise errors.file_not_found(path)
    try:
        rows = pd.read_csv(path, index_col=0)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise errors.unreadable_notes(str(path), str(exc)) from exc
    missing = [c for c in _MTSAMPLES_COLUMNS if c not in rows.columns]
    if missing:
        raise errors.missing_columns(
            str(path),
            missing,
            "an MTSamples CSV has an unnamed index column, "
            "sample_name and transcription",
        )
    numbers = pd.to_numeric(rows.index, errors="coerce")
    if numbers.isna().any() or (numbers % 1 != 0).any():
        raise errors.unreadable_notes(
            str(path), "its first column is not the row number of an MTSamples export"
        )
    if split != "all":
        rows = rows[[in_test(int(i)) == (split == "test") for i in numbers]]
    ids = "mt" + rows.index.astype(str)
    return pd.DataFrame(
        {
            "note_id": ids,
            "person_id": ids,
            "note_date": NOTE_DATE,
            "note_text": rows["transcription"].to_numpy(),
            "note_title": rows["sample_name"].astype(str).str.strip().to_numpy(),
        }
    )


def is_flag(a: CriterionAssessment) -> bool:
    """Whether ``a`` sends a reviewer to a note (module docstring)."""
    if "." in a.criterion_id or not a.evidence:
        return False  # a sub-criterion's top-level criterion shows its evidence
    if a.kind == "exclusion":
        return a.status in ("met", "unknown")
    return a.status == "met"


def flag_of(m: PatientMatch, a: CriterionAssessment) -> Flag:
    """The flag of a flagged assessment, keyed by its first evidence item."""
    first = a.evidence[0]
    return Flag(
        m.trial_id or "",
        m.person_id,
        a.criterion_id,
        a.status,
        first.note_id,
        first.start,
    )


def flags(matches: list[PatientMatch]) -> list[Flag]:
    """Every flag of ``matches``, in the matches' order."""
    return [flag_of(m, a) for m in matches for a in m.criteria if is_flag(a)]


def load_judgements(path: Path) -> dict[FlagKey, bool]:
    """Judgements from a JSONL file (one :class:`FlagJudgement` per line)."""
    judged = read_user_records(path, FlagJudgement, 10_000_000, errors.bad_judgement)
    return {j.key: j.correct for j in judged}


@dataclass
class FlagScore:
    """Flags per criterion, split by the judgements into correct, wrong, unjudged."""

    source: str  # what was screened, for the report's first line
    patients: int
    counts: Counter[tuple[str, str]]

    def total(self, outcome: str) -> int:
        return sum(n for (_, o), n in self.counts.items() if o == outcome)

    @property
    def precision(self) -> float:
        judged = self.total("correct") + self.total("wrong")
        return self.total("correct") / judged if judged else 0.0

    def report(self) -> str:
        """A table by criterion, ending with the one-line summary."""
        criteria = sorted({c for c, _ in self.counts}, key=_criterion_order)
        lines = [
            f"{self.source}: {self.patients} patients with flags",
            f"{'criterion':10} {'correct':>8} {'wrong':>6} {'unjudged':>9}",
        ]
        for c in criteria:
            row = [self.counts[(c, o)] for o in ("correct", "wrong", "unjudged")]
            lines.append(f"{c:10} {row[0]:>8} {row[1]:>6} {row[2]:>9}")
        lines.append(
            f"flags: precision={self.precision:.3f} correct={self.total('correct')} "
            f"judged={self.total('correct') + self.total('wrong')} "
            f"unjudged={self.total('unjudged')}"
        )
        return "\n".join(lines)


def _criterion_order(criterion_id: str) -> tuple[bool, int]:
    """Inclusions first, then by number: inc-2 before inc-10."""
    kind, _, number = criterion_id.partition("-")
    return (kind != "inc", int(number) if number.isdigit() else 0)


def score_flags(
    found: list[Flag], judgements: dict[FlagKey, bool], source: str
) -> FlagScore:
    """Each flag counted as correct, wrong or unjudged under its criterion."""
    counts: Counter[tuple[str, str]] = Counter()
    for flag in found:
        verdict = judgements.get(flag.key)
        outcome = "unjudged" if verdict is None else "correct" if verdict else "wrong"
        counts[(flag.criterion_id, outcome)] += 1
    return FlagScore(source, len({f.person_id for f in found}), counts)


def evaluate_results(results: Path, judgements_path: Path) -> FlagScore:
    """``trialmatch eval flags --results``: the flags of a match run, scored."""
    from pipeline.matching.run import read_jsonl

    matches = read_jsonl(results)
    judgements = load_judgements(judgements_path)
    return score_flags(
        flags(matches), judgements, f"{results}: {len(matches)} patients"
    )


def evaluate_flags(
    trial_path: Path, mtsamples: Path, judgements_path: Path, split: str
) -> FlagScore:
    """``trialmatch eval flags``: screen the split's notes, score the flags."""
    from pipeline.criteria import parse_trial
    from pipeline.matching.match import match_trial
    from pipeline.notes import extract_facts
    from pipeline.notes.io import validate_notes

    notes, rejected = validate_notes(mtsamples_notes(mtsamples, split), str(mtsamples))
    judgements = load_judgements(judgements_path)
    trial = parse_trial(trial_path)
    matches = match_trial(trial, extract_facts(notes), {}, AS_OF)
    source = f"split={split}: {len(notes)} notes ({len(rejected)} rejected)"
    return score_flags(flags(matches), judgements, source)
