"""The whole pipeline for one trial and one note archive: ``trialmatch match``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import errors
from pipeline.matching.match import match_trial
from pipeline.schema import PatientMatch, Trial


@dataclass
class MatchRun:
    """What one run produced and what it skipped (and why)."""

    trial: Trial
    matches: list[PatientMatch]
    notes_text: dict[str, dict[str, tuple[str | None, str]]]
    as_of: dt.date
    notes_summary: str
    skipped: list[str] = field(default_factory=list)


def parse_as_of(value: str | None) -> dt.date:
    """The ``--as-of`` date (YYYY-MM-DD); today when not given."""
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise errors.bad_date(value, "--as-of") from None


def run_match(
    trial_path: Path, notes_source: str, persons_source: str | None, as_of: dt.date
) -> MatchRun:
    """Parse the trial, extract note facts, match every patient.

    Persons of the person table without any note are skipped and listed in
    :attr:`MatchRun.skipped`, as are patients whose notes yield no fact.
    """
    from pipeline.criteria import parse_trial
    from pipeline.notes import extract_facts, read_notes

    trial = parse_trial(trial_path)
    if not trial.criteria:
        raise errors.no_criteria(trial_path)
    notes = read_notes(notes_source, persons=persons_source)
    facts = extract_facts(notes.notes)
    matches = match_trial(trial, facts, notes.persons, as_of)
    texts: dict[str, dict[str, tuple[str | None, str]]] = {}
    for row in notes.notes.itertuples(index=False):
        date = row.note_date.isoformat() if row.note_date else None
        texts.setdefault(str(row.person_id), {})[str(row.note_id)] = (
            date,
            str(row.note_text),
        )
    matched = {m.person_id for m in matches}
    skipped = [
        f"{pid}: no notes" for pid in sorted(notes.persons) if pid not in texts
    ] + [
        f"{pid}: no facts in {len(texts[pid])} notes"
        for pid in sorted(texts)
        if pid not in matched
    ]
    return MatchRun(trial, matches, texts, as_of, notes.summary(), skipped)


def write_jsonl(matches: list[PatientMatch], path: Path) -> None:
    """One ``PatientMatch.to_json()`` per line, best first (parent dirs created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for match in matches:
            out.write(match.to_json() + "\n")
