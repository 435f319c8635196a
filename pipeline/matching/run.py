"""The whole pipeline for one trial and one note archive: ``trialmatch match``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import errors
from pipeline.matching.match import match_trial
from pipeline.schema import PatientMatch, Person, Trial
from pipeline.textio import prepare_output, read_user_records

MAX_RESULTS_BYTES = 2_000_000_000


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


def load_trial(path: Path) -> Trial:
    """The listing at ``path`` parsed, refused when it gives no criterion."""
    from pipeline.criteria import parse_trial

    trial = parse_trial(path)
    if not trial.criteria:
        raise errors.no_criteria(path)
    return trial


def run_match(
    trial: Trial,
    notes_source: str | None,
    persons_source: str | None,
    as_of: dt.date,
    *,
    facts_source: str | None = None,
) -> MatchRun:
    """Take the note facts and match every patient against ``trial``.

    The facts are extracted from ``notes_source``, or read from
    ``facts_source`` as ``trialmatch notes`` wrote them, so that an archive is
    read once and screened for many trials or updated listings; the notes are
    then optional and only give the report their texts. Persons of the person
    table without any note (without any fact, when only facts are given) are
    skipped and listed in :attr:`MatchRun.skipped`, as are patients whose notes
    yield no fact.
    """
    from pipeline.notes import extract_facts, read_facts, read_notes, read_persons
    from pipeline.notes.io import persons_summary

    if notes_source is None and facts_source is None:
        raise errors.no_notes_or_facts()
    summaries: list[str] = []
    texts: dict[str, dict[str, tuple[str | None, str]]] = {}
    persons: dict[str, Person] = {}
    notes = None
    if notes_source is not None:
        notes = read_notes(notes_source, persons=persons_source)
        persons = notes.persons
        summaries.append(notes.summary())
        texts = _note_texts(notes.notes)
    elif persons_source is not None:
        persons, rejected, read = read_persons(persons_source)
        summaries.append(persons_summary(read, Counter(r["reason"] for r in rejected)))
    if facts_source is None:
        assert notes is not None  # checked above: notes or facts are given
        facts = extract_facts(notes.notes)
    else:
        facts_input = read_facts(facts_source)
        facts = facts_input.facts
        summaries.append(facts_input.summary())
        if texts and (moved := _misplaced(facts, texts)):
            summaries.append(
                f"{moved} facts do not match their note's text at their offsets "
                "(are the notes those the facts came from?)"
            )
    matches = match_trial(trial, facts, persons, as_of)
    matched = {m.person_id for m in matches}
    if notes_source is not None:
        skipped = [f"{p}: no notes" for p in sorted(persons) if p not in texts] + [
            f"{p}: {_why_no_facts(texts[p], as_of)}"
            for p in sorted(texts)
            if p not in matched
        ]
    else:
        skipped = [f"{p}: no facts" for p in sorted(persons) if p not in matched]
    return MatchRun(trial, matches, texts, as_of, "; ".join(summaries), skipped)


def _why_no_facts(notes: dict[str, tuple[str | None, str]], as_of: dt.date) -> str:
    """Why a person's notes gave no fact: none found, or all from after ``as_of``."""
    later = sum(
        1 for date, _ in notes.values() if date and dt.date.fromisoformat(date) > as_of
    )
    if later == len(notes):
        notes_are = "its note is" if later == 1 else f"all {later} notes are"
        return f"{notes_are} dated after the as-of date {as_of}"
    read = len(notes) - later
    reason = f"no facts in {read} note{'' if read == 1 else 's'}"
    return reason + (f" ({later} more dated after {as_of})" if later else "")


def _note_texts(notes: pd.DataFrame) -> dict[str, dict[str, tuple[str | None, str]]]:
    """Person id -> note id -> (ISO date or None, text), for the report."""
    texts: dict[str, dict[str, tuple[str | None, str]]] = {}
    for row in notes.itertuples(index=False):
        date = row.note_date.isoformat() if row.note_date else None
        texts.setdefault(str(row.person_id), {})[str(row.note_id)] = (
            date,
            str(row.note_text),
        )
    return texts


def _misplaced(
    facts: pd.DataFrame, texts: dict[str, dict[str, tuple[str | None, str]]]
) -> int:
    """Facts of the given notes whose text is not the note's at their offsets."""
    count = 0
    for person, note, start, end, variant in zip(
        facts["person_id"],
        facts["note_id"],
        facts["offset"],
        facts["offset_end"],
        facts["lexical_variant"],
        strict=True,
    ):
        note_text = texts.get(person, {}).get(note)
        if note_text is not None and note_text[1][start:end] != variant:
            count += 1
    return count


def write_jsonl(matches: list[PatientMatch], path: Path) -> None:
    """One ``PatientMatch.to_json()`` per line, best first (parent dirs created)."""
    prepare_output(path)
    with path.open("w", encoding="utf-8") as out:
        for match in matches:
            out.write(match.to_json() + "\n")


def read_jsonl(path: Path) -> list[PatientMatch]:
    """The matches :func:`write_jsonl` wrote, each line validated."""
    return read_user_records(path, PatientMatch, MAX_RESULTS_BYTES, errors.bad_results)
