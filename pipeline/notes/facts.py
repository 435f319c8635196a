"""Processed notes become NOTE_NLP-shaped fact rows (``NoteFact`` records).

Each mention in ``doc.spans["mentions"]`` - a vocabulary concept, with its
ConText modifiers, section and, where the note states one, its value and date -
becomes one row. ``term_exists`` follows OMOP NOTE_NLP: False when the mention
is negated, hypothetical, about someone else or uncertain; ``term_temporal`` is
"historical" when ConText marked it so or its clause dates it in the past
("years ago", more than two weeks before the note), "current" otherwise;
``term_modifiers`` spells out every modifier ("negated=false;historical=true;...").
Notes are run through ``nlp.pipe`` in batches; a note's date rides on its Doc
(``doc._.note_date``) so relative dates resolve against it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
from pydantic import ValidationError
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline import __version__, errors
from pipeline.notes.io import (
    REJECTED_COLUMNS,
    is_blank,
    parse_date,
    read_frame,
    rejected_row,
)
from pipeline.notes.measurements import MeasuredValue
from pipeline.notes.tokenizer import note_text
from pipeline.schema import NoteFact
from pipeline.vocabulary import Vocabulary, load_vocabulary

FACT_COLUMNS = list(NoteFact.model_fields)
MODIFIERS = ("negated", "historical", "hypothetical", "family", "uncertain")
NOT_ASSERTED = ("negated", "hypothetical", "family", "uncertain")
NLP_SYSTEM = f"trialmatch {__version__}"
CODE_SYSTEMS = ("ICD10CM", "LOINC")
SNIPPET_CHARS = 200
_DATE_COLUMNS = ("note_date", "nlp_date", "event_date")
_BOOL_COLUMNS = ("term_exists", *MODIFIERS)
_STRING_COLUMNS = (
    "note_id",
    "person_id",
    "section",
    "snippet",
    "lexical_variant",
    "concept_id",
    "concept_code",
    "domain",
    "nlp_system",
    "term_temporal",
    "term_modifiers",
    "value_as_string",
    "unit",
    "comparator",
)


@cache
def notes_nlp() -> Language:
    """The notes pipeline of :func:`pipeline.notes.engine.build_notes_nlp` (cached)."""
    from pipeline.notes.engine import build_notes_nlp

    return build_notes_nlp()


def concept_code(vocab: Vocabulary, concept_id: str) -> str | None:
    """The concept's public code as ``SYSTEM:code`` (ICD-10-CM first, then LOINC)."""
    codes = vocab[concept_id].codes
    for system in CODE_SYSTEMS:
        if system in codes:
            return f"{system}:{codes[system]}"
    return None


def snippet(doc: Doc, span: Span) -> str:
    """The mention's sentence (or a window around it), on one line, clipped."""
    if doc.has_annotation("SENT_START"):
        sent = span.sent
        start, end = sent.start_char, sent.end_char
    else:
        start, end = span.start_char, span.end_char
    half = SNIPPET_CHARS // 2
    start = max(start, span.start_char - half)
    end = min(end, span.end_char + half)
    return " ".join(note_text(doc)[start:end].split())


def _modifiers(span: Span) -> frozenset[str]:
    return span._.modifiers if Span.has_extension("modifiers") else frozenset()


def _section(span: Span) -> str | None:
    return span._.section if Span.has_extension("section") else None


def doc_fact_rows(
    doc: Doc,
    *,
    note_id: str,
    person_id: str,
    note_date: dt.date | None,
    nlp_date: dt.date,
    vocab: Vocabulary,
) -> list[dict[str, Any]]:
    """One NOTE_NLP row (a dict of :class:`NoteFact` fields, no id yet) per mention."""
    rows = []
    mentions = sorted(
        doc.spans.get("mentions", []), key=lambda s: (s.start_char, s.label_)
    )
    for span in mentions:
        if span.label_ not in vocab:
            continue
        mods = _modifiers(span)
        value: MeasuredValue = span._.value or MeasuredValue()
        flags = {m: m in mods for m in MODIFIERS}
        flags["historical"] = flags["historical"] or value.past
        rows.append(
            {
                "note_id": note_id,
                "person_id": person_id,
                "note_date": note_date,
                "section": _section(span),
                "snippet": snippet(doc, span),
                "offset": span.start_char,
                "offset_end": span.end_char,
                "lexical_variant": span.text,
                "concept_id": span.label_,
                "concept_code": concept_code(vocab, span.label_),
                "domain": vocab[span.label_].domain,
                "nlp_system": NLP_SYSTEM,
                "nlp_date": nlp_date,
                "term_exists": not any(flags[m] for m in NOT_ASSERTED),
                "term_temporal": "historical" if flags["historical"] else "current",
                "term_modifiers": ";".join(
                    f"{m}={str(flags[m]).lower()}" for m in MODIFIERS
                ),
                **flags,
                "value_as_number": value.value,
                "value_as_string": value.value_as_string,
                "unit": value.unit,
                "comparator": value.comparator,
                "event_date": value.event_date,
            }
        )
    return rows


def _docs(nlp: Language, notes: pd.DataFrame) -> Iterator[Doc]:
    for text, note_date in zip(
        notes["note_text"].tolist(), notes["note_date"].tolist(), strict=True
    ):
        doc = nlp.make_doc(text)
        doc._.note_date = _as_date(note_date)
        yield doc


def _as_date(value: Any) -> dt.date | None:
    """A note date as given by :func:`read_notes` or by a caller's own frame
    (date, datetime, Timestamp, ISO text; None/NaT/NaN when unknown)."""
    if value is None or value is pd.NaT or isinstance(value, float):
        return None
    return parse_date(value)


def fact_rows(
    notes: pd.DataFrame, *, batch_size: int = 32, nlp: Language | None = None
) -> Iterator[dict[str, Any]]:
    """NOTE_NLP rows for every note of ``notes`` (columns as :func:`read_notes`)."""
    nlp = nlp or notes_nlp()
    vocab = load_vocabulary()
    today = dt.date.today()
    docs = nlp.pipe(_docs(nlp, notes), batch_size=batch_size)
    ids = notes["note_id"].astype(str).tolist()
    persons = notes["person_id"].astype(str).tolist()
    number = 0
    for doc, note_id, person_id in zip(docs, ids, persons, strict=True):
        for row in doc_fact_rows(
            doc,
            note_id=note_id,
            person_id=person_id,
            note_date=doc._.note_date,
            nlp_date=today,
            vocab=vocab,
        ):
            number += 1
            yield {"note_nlp_id": number, **row}


def facts_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a typed frame with exactly the :class:`NoteFact` columns.

    Dates are ``datetime64[ns]`` (NaT when unknown), booleans ``bool``,
    numbers ``float64``/``int64``, text ``object`` (None when unknown).
    """
    frame = pd.DataFrame(rows, columns=FACT_COLUMNS)
    for col in _DATE_COLUMNS:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in _BOOL_COLUMNS:
        frame[col] = frame[col].astype(bool)
    for col in ("note_nlp_id", "offset", "offset_end"):
        frame[col] = frame[col].astype("int64")
    frame["value_as_number"] = frame["value_as_number"].astype("float64")
    for col in _STRING_COLUMNS:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


def extract_facts(notes: pd.DataFrame, *, batch_size: int = 32) -> pd.DataFrame:
    """NOTE_NLP-shaped facts of ``notes`` (``note_id``, ``person_id``,
    ``note_date``, ``note_text``; e.g. :attr:`NotesInput.notes`).

    Columns are exactly the fields of :class:`~pipeline.schema.NoteFact`, typed
    as in :func:`facts_frame`; ``note_nlp_id`` numbers the rows from 1.
    """
    return facts_frame(list(fact_rows(notes, batch_size=batch_size)))


def facts_from_text(
    text: str,
    *,
    note_id: str = "note",
    person_id: str = "patient",
    note_date: dt.date | None = None,
) -> list[NoteFact]:
    """The facts of one text (e.g. a TrialGPT patient summary) as records."""
    notes = pd.DataFrame(
        {
            "note_id": [note_id],
            "person_id": [person_id],
            "note_date": [note_date],
            "note_text": [text],
        }
    )
    return [NoteFact.model_validate(row) for row in fact_rows(notes)]


_ID_COLUMNS = ("note_id", "person_id")


@dataclass
class FactsInput:
    """What :func:`read_facts` read: the good facts (typed as
    :func:`facts_frame`) and the rejected rows, each with its reason
    (columns :data:`~pipeline.notes.io.REJECTED_COLUMNS`, table ``note_nlp``)."""

    source: str
    facts: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int

    def summary(self) -> str:
        """One line: facts read / kept / rejected with reasons counted."""
        reasons = Counter(self.rejected["reason"])
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        return (
            f"facts read {self.rows_read}, kept {len(self.facts)}, "
            f"rejected {len(self.rejected)}" + (f" ({why})" if why else "")
        )


def read_facts(source: str, *, table: str = "note_nlp") -> FactsInput:
    """Facts as ``trialmatch notes`` wrote them (Parquet, CSV or JSONL), or a
    NOTE_NLP-shaped table behind a SQLAlchemy URL, so that a note archive is
    read once and matched against many trials.

    Every row is validated as a :class:`~pipeline.schema.NoteFact` and kept or
    rejected with the first reason pydantic gives; a missing column stops the
    run with a :class:`~pipeline.errors.TrialmatchError`.
    """
    frame, unreadable = read_frame(source, table)
    missing = [c for c in FACT_COLUMNS if c not in frame.columns]
    if missing:
        raise errors.missing_columns(
            source,
            missing,
            "note facts need every NOTE_NLP column that `trialmatch notes` "
            "writes (the fields of NoteFact, listed in README).",
        )
    bad = dict(unreadable)
    good: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    columns = [frame[c].tolist() for c in FACT_COLUMNS]
    for row, values in enumerate(zip(*columns, strict=True), start=1):
        record = {
            c: None if is_blank(v) else v
            for c, v in zip(FACT_COLUMNS, values, strict=True)
        }
        for column in _ID_COLUMNS:
            record[column] = _identifier(record[column])
        for column in _DATE_COLUMNS:
            # The notes reader's date forms; text it cannot read is left for
            # pydantic to reject with its own message.
            if record[column] is not None:
                record[column] = parse_date(record[column]) or record[column]
        reason = bad.get(row)
        if reason is None:
            try:
                # The validated fields themselves: model_dump would copy them.
                good.append(vars(NoteFact.model_validate(record)))
                continue
            except ValidationError as exc:
                first = exc.errors()[0]
                reason = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        rejected.append(
            rejected_row(
                "note_nlp", row, record["note_id"], record["person_id"], reason
            )
        )
    return FactsInput(
        source,
        facts_frame(good),
        pd.DataFrame(rejected, columns=REJECTED_COLUMNS),
        len(frame),
    )


def _identifier(value: Any) -> Any:
    # OMOP ids are integers in a database and may come back as floats.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int) else value
