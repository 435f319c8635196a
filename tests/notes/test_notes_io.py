"""Reading notes and persons: every row processed or rejected with its reason."""

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import TrialmatchError
from pipeline.notes.io import (
    NOTE_COLUMNS,
    output_format,
    read_notes,
    rejected_path,
    write_table,
)

HEADER = b"note_id,person_id,note_date,note_text\n"
GOOD = b'1,p1,2026-10-15,"ECOG 1. Hgb 9.1 g/dL."\n'


def write_csv(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "notes.csv"
    path.write_bytes(HEADER + GOOD + body)
    return path


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b'2,p1,2026-10-15,""\n', "empty note_text"),
        (b'2,p1,2026-10-15,"   "\n', "empty note_text"),
        (b"2,p1,2026-10-15,\n", "empty note_text"),
        (b'2,p1,,"text"\n', "missing note_date"),
        (b'2,p1,yesterday,"text"\n', "unparseable note_date"),
        (b'2,p1,2026-02-30,"text"\n', "unparseable note_date"),
        (b'1,p2,2026-10-15,"same id again"\n', "duplicate note_id"),
        (b',p1,2026-10-15,"text"\n', "missing note_id"),
        (b'2,,2026-10-15,"text"\n', "missing person_id"),
        (b'2,p1,2026-10-15,"caf\xe9 au lait"\n', "non-UTF-8 bytes"),
        (b"2,p1\n", "2 fields, header has 4"),
        (
            b'2,p1,2026-10-15,"' + b"Hgb 9.1. " * 600_000 + b'"\n',
            "note_text over 1,000,000 characters",
        ),
    ],
)
def test_bad_row_is_rejected_with_its_reason(
    tmp_path: Path, row: bytes, reason: str
) -> None:
    result = read_notes(str(write_csv(tmp_path, row)))
    assert result.rows_read == 2
    assert result.rows_processed == 1
    assert result.rows_read == result.rows_processed + len(result.rejected)
    assert result.rejected["reason"].tolist() == [reason]
    assert result.rejected["row"].tolist() == [2]
    assert result.notes["note_id"].tolist() == ["1"]
    assert f"rejected 1 (1 {reason})" in result.summary()


def test_many_bad_rows_are_all_counted(tmp_path: Path) -> None:
    body = (
        b'2,p1,2026-10-15,""\n'
        b'1,p2,2026-10-15,"dup"\n'
        b'3,p3,bad,"x"\n'
        b'4,p4,10/15/2026 08:00,"US date with a time"\n'
    )
    result = read_notes(str(write_csv(tmp_path, body)))
    assert (result.rows_read, result.rows_processed, len(result.rejected)) == (5, 2, 3)
    assert result.reasons() == {
        "empty note_text": 1,
        "duplicate note_id": 1,
        "unparseable note_date": 1,
    }


def test_text_is_kept_exactly(tmp_path: Path) -> None:
    text = "Line one.\r\nLine two,  with  spaces."
    path = tmp_path / "n.jsonl"
    row = {
        "note_id": "a",
        "person_id": "p",
        "note_date": "2026-01-02",
        "note_text": text,
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    notes = read_notes(str(path)).notes
    assert notes["note_text"].tolist() == [text]
    assert list(notes.columns) == NOTE_COLUMNS
    assert notes["note_date"].tolist() == [dt.date(2026, 1, 2)]


def test_jsonl_with_datetime_and_a_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    good = {
        "note_id": 7,
        "person_id": 70,
        "note_datetime": "2026-10-15T08:30:00",
        "note_title": "Clinic",
        "note_text": "ECOG 2.",
    }
    path.write_text(json.dumps(good) + "\n{not json\n[1, 2]\n", encoding="utf-8")
    result = read_notes(str(path))
    assert result.notes[["note_id", "person_id"]].values.tolist() == [["7", "70"]]
    assert result.notes["note_date"].tolist() == [dt.date(2026, 10, 15)]
    assert result.reasons() == {"not a JSON object": 2}


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    pd.DataFrame(
        {
            "NOTE_ID": [1, 2],
            "PERSON_ID": [10, 20],
            "NOTE_DATE": pd.to_datetime(["2026-10-15", None]),
            "NOTE_TEXT": ["ECOG 1.", "ECOG 2."],
        }
    ).to_parquet(path)
    result = read_notes(str(path))
    assert result.notes["note_id"].tolist() == ["1"]
    assert result.notes["note_date"].tolist() == [dt.date(2026, 10, 15)]
    assert result.reasons() == {"missing note_date": 1}


def make_db(path: Path, table: str = "note") -> None:
    con = sqlite3.connect(path)
    con.execute(f"create table {table} (note_id, person_id, note_date, note_text)")
    con.execute(f"insert into {table} values (1, 'p1', '2026-10-15', 'ECOG 1.')")
    con.execute(
        f"insert into {table} values (2, 'p1', '2026-10-15', cast(x'ff6869' as text))"
    )
    con.commit()
    con.close()


def test_sqlite_url_with_an_undecodable_row(tmp_path: Path) -> None:
    make_db(tmp_path / "notes.db")
    result = read_notes(f"sqlite:///{tmp_path / 'notes.db'}")
    assert result.notes["note_text"].tolist() == ["ECOG 1."]
    assert result.reasons() == {"non-UTF-8 bytes": 1}


def test_sqlite_other_table(tmp_path: Path) -> None:
    make_db(tmp_path / "notes.db", table="clinical_notes")
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    assert read_notes(url, table="clinical_notes").rows_processed == 1
    with pytest.raises(TrialmatchError, match="no such table"):
        read_notes(url)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"id,text\n1,x\n", "notes.csv", "missing required column"),
        (b"note_id,person_id,note_text\n1,p,x\n", "notes.csv", "note_date"),
        (b"", "notes.csv", "empty"),
        (b"hello", "notes.txt", "unknown notes format"),
    ],
)
def test_structural_problems_raise(
    tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TrialmatchError, match=message):
        read_notes(str(path))


@pytest.mark.parametrize("source", ["missing.csv", "sqlite:///does/not/exist.db"])
def test_missing_source(tmp_path: Path, source: str) -> None:
    with pytest.raises(TrialmatchError, match="no such file"):
        read_notes(str(tmp_path / source) if "://" not in source else source)


def test_persons_table(tmp_path: Path) -> None:
    notes = write_csv(tmp_path, b"")
    persons = tmp_path / "persons.csv"
    persons.write_text(
        "person_id,birth_date,year_of_birth,sex\n"
        "p1,1955-03-02,,F\n"
        "p2,,1960,male\n"
        "p3,,,8532\n"
        "p1,,,M\n"
        "p4,not a date,,\n"
        "p5,1970-01-01,,unknown\n"
        "p6,,,8551\n"
        "p7,,,x7\n",
        encoding="utf-8",
    )
    result = read_notes(str(notes), persons=str(persons))
    assert result.persons["p1"].birth_date == dt.date(1955, 3, 2)
    assert result.persons["p1"].sex == "female"
    assert result.persons["p2"].year_of_birth == 1960
    assert result.persons["p3"].sex == "female"
    # A sex recorded as not known keeps the person, and their birth date.
    assert result.persons["p5"].sex is None
    assert result.persons["p5"].birth_date == dt.date(1970, 1, 1)
    assert result.persons["p6"].sex is None
    assert result.persons_read == 8
    assert result.reasons("person") == {
        "duplicate person_id": 1,
        "unparseable birth_date": 1,
        "unrecognised sex": 1,
    }
    assert (
        "persons read 8, rejected 3 (1 duplicate person_id, 1 unparseable "
        "birth_date, 1 unrecognised sex)" in result.summary()
    )


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("facts.parquet", None, "parquet"),
        ("facts.csv", None, "csv"),
        ("facts.jsonl", None, "jsonl"),
        ("facts.out", "csv", "csv"),
    ],
)
def test_output_format(name: str, fmt: str | None, expected: str) -> None:
    assert output_format(Path(name), fmt) == expected


def test_unknown_output_format() -> None:
    with pytest.raises(TrialmatchError, match="unknown output format"):
        output_format(Path("facts.txt"))


def test_rejected_rows_go_next_to_the_output(tmp_path: Path) -> None:
    out = tmp_path / "out" / "facts.parquet"
    assert rejected_path(out) == tmp_path / "out" / "facts.rejected.csv"
    frame = pd.DataFrame({"a": [1], "d": pd.to_datetime(["2026-01-02"])})
    write_table(frame, out.with_suffix(".jsonl"), "jsonl")
    assert json.loads(out.with_suffix(".jsonl").read_text()) == {
        "a": 1,
        "d": "2026-01-02",
    }


def test_json_array_export(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    rows = [
        {"note_id": "1", "person_id": "p", "note_date": "2026-10-15", "note_text": "x"},
        "not an object",
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    result = read_notes(str(path))
    assert (result.rows_processed, result.reasons()) == (1, {"not a JSON object": 1})


def test_a_utf16_notes_file_is_refused_with_a_message(tmp_path: Path) -> None:
    # Excel's "Unicode text" export: every row used to fail as undecodable.
    notes = tmp_path / "notes.csv"
    text = "note_id,person_id,note_date,note_text\n1,p1,2026-10-01,ECOG 1\n"
    notes.write_bytes(text.encode("utf-16"))
    with pytest.raises(TrialmatchError, match="a binary or UTF-16 file"):
        read_notes(str(notes))
