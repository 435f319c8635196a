"""Reading notes (OMOP NOTE shape) and persons (OMOP PERSON, reduced), row by row.

Sources are CSV, JSONL, Parquet or a database table behind a SQLAlchemy URL
(``sqlite:///notes.db``, table ``note`` by default). Files are decoded with
``surrogateescape`` so that one row's stray non-UTF-8 bytes reject that row,
not the file. Every row read is either kept or rejected with a reason, so that
rows read = rows processed + rows rejected always holds and nothing is lost
silently; only a structural problem (no such file, a required column missing,
an unreadable table) stops the run with a :class:`~pipeline.errors.TrialmatchError`.
Note text is kept byte-for-byte as stored, so fact offsets index it exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pipeline import errors
from pipeline.schema import Person
from pipeline.textio import prepare_output, refuse_binary

NOTE_COLUMNS = ["note_id", "person_id", "note_date", "note_title", "note_text"]
REQUIRED = ["note_id", "person_id", "note_text"]
DATE_COLUMNS = ["note_date", "note_datetime"]
REJECTED_COLUMNS = ["table", "row", "note_id", "person_id", "reason"]
MAX_NOTE_CHARS = 1_000_000
_FILE_SUFFIXES = {".csv", ".jsonl", ".json", ".ndjson", ".parquet", ".pq"}
_FEMALE = {"f", "female", "woman", "8532"}
_MALE = {"m", "male", "man", "8507"}
# Values that record that the sex is not known (OMOP 8551 UNKNOWN, 0 for no
# matching concept): the person is kept, with their birth date, and no sex.
_SEX_NOT_KNOWN = {"u", "unknown", "unk", "8551", "0"}


@dataclass
class NotesInput:
    """What :func:`read_notes` read: good notes, rejected rows, persons.

    ``notes`` has the columns of :data:`NOTE_COLUMNS` (``note_date`` as
    :class:`datetime.date`); ``rejected`` has :data:`REJECTED_COLUMNS`, ``row``
    being the 1-based data row of the source.
    """

    source: str
    notes: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    persons: dict[str, Person] = field(default_factory=dict)
    persons_read: int = 0

    @property
    def rows_processed(self) -> int:
        return len(self.notes)

    def reasons(self, table: str = "note") -> Counter[str]:
        """Rejected rows of ``table`` counted by reason."""
        rows = self.rejected[self.rejected["table"] == table]
        return Counter(rows["reason"])

    def summary(self) -> str:
        """One line: notes read / processed / rejected with reasons counted."""
        line = (
            f"notes read {self.rows_read}, processed {self.rows_processed}, "
            f"rejected {_counted(self.reasons('note'))}"
        )
        if self.persons_read:
            line += "; " + persons_summary(self.persons_read, self.reasons("person"))
        return line


def is_database_url(source: str) -> bool:
    """True for a SQLAlchemy URL (``dialect[+driver]://...``) rather than a path."""
    head = source.split("://", 1)[0]
    return "://" in source and head.replace("+", "").isalnum() and len(head) > 1


def _decode(path: Path) -> str:
    data = path.read_bytes()
    # Only the first bytes, as git tells binary files: one stray NUL deep in
    # an archive stays that note's problem, not the whole file's.
    refuse_binary(path, data, scan=8000)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape")


def _read_jsonl(text: str) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """One record per line, or the items of one JSON array (a ``.json`` export)."""
    rows: list[dict[str, Any]] = []
    bad: list[tuple[int, str]] = []
    items: list[Any] = [line for line in text.splitlines() if line.strip()]
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON array: {exc.msg}") from exc
    for item in items:
        try:
            obj = json.loads(item) if isinstance(item, str) else item
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            rows.append(obj)
        else:
            rows.append({})
            bad.append((len(rows), "not a JSON object"))
    return rows, bad


def _read_csv(text: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """CSV rows with Python's csv module, which (unlike pandas' C parser)
    passes undecodable bytes through to be judged row by row."""
    # The default 128 KiB field limit would fail the whole file on one long
    # note; length is judged per row instead (see MAX_NOTE_CHARS).
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ValueError("no header row")
    rows: list[list[str]] = []
    bad: list[tuple[int, str]] = []
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            bad.append(
                (len(rows) + 1, f"{len(fields)} fields, header has {len(header)}")
            )
            fields = [""] * len(header)
        rows.append(fields)
    return pd.DataFrame(rows, columns=header, dtype=object), bad


def _sqlite_text_factory(engine: sa.Engine) -> None:
    """Let SQLite hand back undecodable text instead of failing the whole query."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.text_factory = lambda b: b.decode(
            "utf-8", errors="surrogateescape"
        )


def _read_table(source: str, table: str) -> pd.DataFrame:
    try:
        url = sa.engine.make_url(source)
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise errors.database_error(source, table, str(exc).splitlines()[0]) from exc
    # SQLite would silently create a missing file; a typo must not look empty.
    local = url.get_backend_name() == "sqlite" and url.database not in ("", ":memory:")
    if local and url.database is not None and not Path(url.database).is_file():
        raise errors.file_not_found(Path(url.database))
    if engine.dialect.name == "sqlite":
        _sqlite_text_factory(engine)
    try:
        with engine.connect() as conn:
            meta = sa.MetaData()
            tab = sa.Table(table, meta, autoload_with=conn)
            result = conn.execute(sa.select(tab))
            # Built by hand: pandas' SQL reader would coerce to Arrow strings
            # and fail on one undecodable value.
            return pd.DataFrame(
                [tuple(r) for r in result], columns=list(result.keys()), dtype=object
            )
    except sa.exc.NoSuchTableError as exc:
        raise errors.database_error(source, table, "no such table") from exc
    except sa.exc.SQLAlchemyError as exc:
        detail = str(exc).splitlines()[0]
        raise errors.database_error(source, table, detail) from exc
    finally:
        engine.dispose()


def read_frame(
    source: str, table: str = "note"
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The raw rows of ``source`` as strings/objects, plus rows unreadable as records.

    Column names are lower-cased. Unreadable rows (a JSONL line that is not an
    object) come back as empty rows plus ``(row, reason)``.
    """
    bad: list[tuple[int, str]] = []
    if is_database_url(source):
        frame = _read_table(source, table)
    else:
        path = Path(source)
        suffix = path.suffix.lower()
        if suffix not in _FILE_SUFFIXES:
            raise errors.unsupported_notes_format(source)
        if not path.is_file():
            raise errors.file_not_found(path)
        if path.stat().st_size == 0:
            raise errors.empty_input(path)
        try:
            if suffix in {".parquet", ".pq"}:
                frame = pd.read_parquet(path).astype(object)
            elif suffix == ".csv":
                frame, bad = _read_csv(_decode(path))
            else:
                rows, bad = _read_jsonl(_decode(path))
                frame = pd.DataFrame(rows, dtype=object)
        except (ValueError, OSError, csv.Error) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise errors.unreadable_notes(source, detail) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame, bad


def is_blank(value: Any) -> bool:
    """True for a cell that holds nothing: None, NaN, NaT, pd.NA, empty text."""
    # Text and floats first: pd.isna takes longer, and this runs once per cell.
    if isinstance(value, str):
        return not value.strip()
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NaT or (not isinstance(value, bytes) and pd.isna(value))


def rejected_row(
    table: str, row: int, note_id: str | None, person_id: str | None, reason: str
) -> dict[str, Any]:
    """One row of a rejected-rows table (:data:`REJECTED_COLUMNS`)."""
    return {
        "table": table,
        "row": row,
        "note_id": note_id,
        "person_id": person_id,
        "reason": reason,
    }


def persons_summary(read: int, rejected: Counter[str]) -> str:
    """The persons part of a run's summary line, rejections counted by reason."""
    return f"persons read {read}, rejected {_counted(rejected)}"


def _counted(reasons: Counter[str]) -> str:
    """``3 (2 missing person_id, 1 duplicate note_id)``, or ``0``."""
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
    return f"{sum(reasons.values())}" + (f" ({why})" if why else "")


def _text(value: Any) -> str | None:
    """``value`` as text; None when blank. Raises UnicodeError on bad bytes."""
    if is_blank(value):
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raise UnicodeError("non-UTF-8 bytes")
    return text


def parse_date(value: Any) -> dt.date | None:
    """A date from ISO text (date or datetime), ``MM/DD/YYYY`` or a date object."""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for fmt in ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%Y/%m/%d", "%d-%b-%Y", "%b %d, %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _check_columns(frame: pd.DataFrame, source: str) -> str:
    """The date column to use; raises when a required column is missing."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    date_col = next((c for c in DATE_COLUMNS if c in frame.columns), None)
    if date_col is None:
        missing.append("note_date (or note_datetime)")
    if missing:
        raise errors.missing_columns(
            source,
            missing,
            "notes need note_id, person_id, note_date (or note_datetime), "
            "note_text and optionally note_title (the OMOP NOTE table).",
        )
    return date_col


def validate_notes(
    frame: pd.DataFrame,
    source: str,
    unreadable: list[tuple[int, str]] = (),  # type: ignore[assignment]
    max_note_chars: int = MAX_NOTE_CHARS,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Split raw rows into good notes and rejected rows (each with its reason)."""
    date_col = _check_columns(frame, source)
    bad = dict(unreadable)
    seen: set[str] = set()
    good: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    has_title = "note_title" in frame.columns
    columns = ["note_id", "person_id", "note_text", date_col]
    if has_title:
        columns.append("note_title")
    for row, values in enumerate(
        zip(*(frame[c].tolist() for c in columns), strict=True), start=1
    ):
        record = dict(zip(columns, values, strict=True))
        note_id = person_id = None
        reason = bad.get(row)
        try:
            note_id = _text(record["note_id"])
            person_id = _text(record["person_id"])
            text = _text(record["note_text"])
            title = _text(record.get("note_title"))
        except (UnicodeError, UnicodeDecodeError):
            reason = reason or "non-UTF-8 bytes"
        if reason is None:
            reason = _row_problem(
                note_id, person_id, text, record[date_col], seen, max_note_chars
            )
        if note_id is not None:
            seen.add(note_id)
        if reason is not None:
            rejected.append(rejected_row("note", row, note_id, person_id, reason))
            continue
        good.append(
            {
                "note_id": note_id,
                "person_id": person_id,
                "note_date": parse_date(record[date_col]),
                "note_title": title,
                "note_text": text,
            }
        )
    return pd.DataFrame(good, columns=NOTE_COLUMNS), rejected


def _row_problem(
    note_id: str | None,
    person_id: str | None,
    text: str | None,
    date_value: Any,
    seen: set[str],
    max_note_chars: int,
) -> str | None:
    if note_id is None:
        return "missing note_id"
    if note_id in seen:
        return "duplicate note_id"
    if person_id is None:
        return "missing person_id"
    if text is None:
        return "empty note_text"
    if is_blank(date_value):
        return "missing note_date"
    if parse_date(date_value) is None:
        return "unparseable note_date"
    if len(text) > max_note_chars:
        return f"note_text over {max_note_chars:,} characters"
    return None


def _sex(value: Any) -> str | None:
    key = str(value).strip().lower()
    if key in _FEMALE:
        return "female"
    if key in _MALE:
        return "male"
    return None


def read_persons(
    source: str, table: str = "person"
) -> tuple[dict[str, Person], list[dict[str, Any]], int]:
    """Persons by id from a person table, its rejected rows, and rows read.

    Columns: ``person_id`` and any of ``birth_date`` (or OMOP's
    ``birth_datetime``), ``year_of_birth``, ``sex`` (or ``gender``:
    female/male/F/M or OMOP gender concept 8532/8507; unknown/unk/U/8551/0
    keep the person without a sex).
    """
    frame, unreadable = read_frame(source, table)
    if "person_id" not in frame.columns:
        raise errors.missing_columns(
            source,
            ["person_id"],
            "a person table needs person_id and optionally birth_date, "
            "year_of_birth and sex.",
        )
    bad = dict(unreadable)
    persons: dict[str, Person] = {}
    rejected: list[dict[str, Any]] = []
    records = frame.to_dict("records")
    for row, record in enumerate(records, start=1):
        reason = bad.get(row)
        person_id = None
        try:
            person_id = _text(record.get("person_id"))
            birth = _text(record.get("birth_date", record.get("birth_datetime")))
            year = _text(record.get("year_of_birth"))
            sex = _text(record.get("sex", record.get("gender")))
        except (UnicodeError, UnicodeDecodeError):
            reason = reason or "non-UTF-8 bytes"
        if reason is None:
            reason = _person_problem(person_id, birth, year, sex, persons)
        if reason is not None:
            rejected.append(rejected_row("person", row, None, person_id, reason))
            continue
        assert person_id is not None
        persons[person_id] = Person(
            person_id=person_id,
            birth_date=parse_date(birth) if birth else None,
            year_of_birth=int(float(year)) if year else None,
            sex=_sex(sex) if sex else None,
        )
    return persons, rejected, len(records)


def _person_problem(
    person_id: str | None,
    birth: str | None,
    year: str | None,
    sex: str | None,
    persons: dict[str, Person],
) -> str | None:
    if person_id is None:
        return "missing person_id"
    if person_id in persons:
        return "duplicate person_id"
    if birth is not None and parse_date(birth) is None:
        return "unparseable birth_date"
    if year is not None:
        try:
            float(year)
        except ValueError:
            return "unparseable year_of_birth"
    if sex is not None and _sex(sex) is None and not _sex_not_known(sex):
        return "unrecognised sex"
    return None


def _sex_not_known(value: str) -> bool:
    return value.strip().lower() in _SEX_NOT_KNOWN


def read_notes(
    source: str,
    *,
    table: str = "note",
    persons: str | None = None,
    person_table: str = "person",
    max_note_chars: int = MAX_NOTE_CHARS,
) -> NotesInput:
    """Notes (and optionally persons) from a file or a SQLAlchemy URL.

    Every row is processed or rejected with a reason; see :class:`NotesInput`.
    """
    frame, unreadable = read_frame(source, table)
    notes, rejected = validate_notes(frame, source, unreadable, max_note_chars)
    people: dict[str, Person] = {}
    persons_read = 0
    if persons is not None:
        people, bad_people, persons_read = read_persons(persons, person_table)
        rejected += bad_people
    return NotesInput(
        source=source,
        notes=notes,
        rejected=pd.DataFrame(rejected, columns=REJECTED_COLUMNS),
        rows_read=len(frame),
        persons=people,
        persons_read=persons_read,
    )


OUTPUT_FORMATS = ("parquet", "csv", "jsonl")


def output_format(path: Path, fmt: str | None = None) -> str:
    """``fmt`` if given, else the format named by ``path``'s suffix."""
    chosen = fmt or path.suffix.lower().lstrip(".")
    chosen = {"pq": "parquet", "ndjson": "jsonl"}.get(chosen, chosen)
    if chosen not in OUTPUT_FORMATS:
        raise errors.unsupported_output(path)
    return chosen


def write_table(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write ``frame`` as Parquet, CSV or JSONL; dates as ``YYYY-MM-DD`` in text forms.

    JSONL rows are the JSON form of :class:`~pipeline.schema.NoteFact`.
    """
    prepare_output(path)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
        return
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            text = out[col].dt.strftime("%Y-%m-%d")
            out[col] = text.astype(object).where(out[col].notna(), None)
    if fmt == "csv":
        out.to_csv(path, index=False)
        return
    records = out.astype(object).where(out.notna(), None).to_dict("records")
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def rejected_path(out: Path) -> Path:
    """Where the rejected rows of a run writing ``out`` go: ``<stem>.rejected.csv``."""
    return out.with_name(f"{out.stem}.rejected.csv")
