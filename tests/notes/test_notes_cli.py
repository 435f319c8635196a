"""``trialmatch notes`` and ``trialmatch eval facts`` on small inputs."""

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.schema import NoteFact

NOTES = [
    {
        "note_id": "a",
        "person_id": "p1",
        "note_date": "2026-10-15",
        "note_text": "62-year-old woman. HER2 negative (IHC 1+). Hgb 9.1 g/dL. ECOG 2.",
    },
    {
        "note_id": "b",
        "person_id": "p2",
        "note_date": "2026-10-15",
        "note_text": "",
    },
]


def write_notes(tmp_path: Path, fmt: str) -> str:
    frame = pd.DataFrame(NOTES)
    if fmt == "csv":
        path = tmp_path / "notes.csv"
        frame.to_csv(path, index=False)
    elif fmt == "jsonl":
        path = tmp_path / "notes.jsonl"
        path.write_text("".join(json.dumps(n) + "\n" for n in NOTES), encoding="utf-8")
    elif fmt == "parquet":
        path = tmp_path / "notes.parquet"
        frame.to_parquet(path)
    else:
        path = tmp_path / "notes.db"
        con = sqlite3.connect(path)
        frame.to_sql("note", con, index=False)
        con.close()
        return f"sqlite:///{path}"
    return str(path)


def read_facts(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])


@pytest.mark.parametrize("source_fmt", ["csv", "jsonl", "parquet", "sqlite"])
@pytest.mark.parametrize("out_name", ["facts.parquet", "facts.csv", "facts.jsonl"])
def test_notes_command(tmp_path: Path, source_fmt: str, out_name: str) -> None:
    out = tmp_path / "out" / out_name
    result = CliRunner().invoke(
        app, ["notes", write_notes(tmp_path, source_fmt), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert "\n" not in line
    assert line.startswith("notes read 2, processed 1, rejected 1 (1 empty note_text)")
    facts = read_facts(out)
    assert list(facts.columns) == list(NoteFact.model_fields)
    assert f"facts written {len(facts)}" in line
    hgb = facts[facts["concept_id"] == "hemoglobin"]
    assert hgb["value_as_number"].tolist() == [91.0]
    rejected = pd.read_csv(out.with_name("facts.rejected.csv"))
    assert rejected[["row", "reason"]].values.tolist() == [[2, "empty note_text"]]


def test_jsonl_rows_are_note_fact_json(tmp_path: Path) -> None:
    out = tmp_path / "facts.jsonl"
    CliRunner().invoke(app, ["notes", write_notes(tmp_path, "csv"), "--out", str(out)])
    facts = [NoteFact.from_json(line) for line in out.read_text().splitlines()]
    assert {f.concept_id for f in facts} >= {"age", "sex", "her2", "hemoglobin", "ecog"}


def test_format_option_overrides_suffix(tmp_path: Path) -> None:
    out = tmp_path / "facts.out"
    result = CliRunner().invoke(
        app,
        ["notes", write_notes(tmp_path, "csv"), "--out", str(out), "--format", "csv"],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["concept_id"].notna().all()


def test_persons_are_counted(tmp_path: Path) -> None:
    persons = tmp_path / "persons.csv"
    persons.write_text("person_id,birth_date,sex\np1,1964-01-01,F\np2,x,M\n")
    result = CliRunner().invoke(
        app,
        [
            "notes",
            write_notes(tmp_path, "csv"),
            "--persons",
            str(persons),
            "--out",
            str(tmp_path / "f.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "persons read 2, rejected 1" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,text\n1,x\n", "missing required column(s) note_id, person_id"),
        ("note_id,person_id,note_text\n1,p,x\n", "note_date (or note_datetime)"),
    ],
)
def test_missing_columns_exit_2_with_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    notes = tmp_path / "bad.csv"
    notes.write_text(content, encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "notes",
            str(notes),
            "--out",
            str(tmp_path / "f.parquet"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert message in lines[0]
    assert not (tmp_path / "f.parquet").exists()


def test_eval_facts_on_the_gold_notes() -> None:
    gold = ROOT / "annotations" / "notes"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "facts",
            "--notes",
            str(gold / "notes.jsonl"),
            "--gold",
            str(gold / "gold_facts.jsonl"),
            "--no-show",
        ],
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"facts: precision=[01]\.\d{3} recall=[01]\.\d{3} f1=[01]\.\d{3} "
        r"n_gold=187 n_facts=\d+ traps_failed=0",
        last,
    )


@pytest.mark.parametrize("blocked", ["out", "rejected"])
def test_an_unwritable_out_exits_2_before_reading(tmp_path: Path, blocked: str) -> None:
    out = tmp_path / "f.parquet"
    if blocked == "out":
        (tmp_path / "file.txt").write_text("x", encoding="utf-8")
        out = tmp_path / "file.txt" / "f.parquet"
    else:
        # The rejected rows go beside the facts, to f.rejected.csv.
        (tmp_path / "f.rejected.csv").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "notes", str(tmp_path / "absent.csv"),
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    # The output is checked first: a run over an archive would fail at its end.
    assert "cannot be written" in proc.stderr
