"""``trialmatch match`` from the command line: outputs, skips and bad input."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEED

from pipeline.schema import PatientMatch

NOTES = [
    {
        "note_id": "n1",
        "person_id": "A",
        "note_date": "2026-10-01",
        "note_title": "Clinic",
        "note_text": "62-year-old man with metastatic colorectal cancer and "
        "unresectable liver metastases. ECOG 1. No prior chemotherapy.",
    },
    {
        "note_id": "n2",
        "person_id": "B",
        "note_date": "2026-10-02",
        "note_title": "Clinic",
        "note_text": "58-year-old woman with colorectal cancer. ECOG 2. "
        "Takes apixaban 5 mg twice daily.",
    },
]


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


@pytest.mark.slow
def test_match_writes_ranked_jsonl_and_report(tmp_path: Path) -> None:
    notes = _write_csv(tmp_path / "notes.csv", NOTES)
    persons = _write_csv(
        tmp_path / "persons.csv",
        [
            {"person_id": "A", "birth_date": "1964-03-12", "sex": "male"},
            {"person_id": "B", "birth_date": "1968-01-01", "sex": "female"},
            {"person_id": "C", "birth_date": "1970-01-01", "sex": "female"},
        ],
    )
    out = tmp_path / "deep" / "dir" / "results.jsonl"
    html = tmp_path / "other" / "report.html"
    done = _run(
        "match", "--trial", str(SEED), "--notes", str(notes), "--persons",
        str(persons), "--as-of", "2026-11-01", "--out", str(out), "--html", str(html),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    matches = [PatientMatch.from_json(line) for line in out.read_text().splitlines()]
    assert [m.person_id for m in matches] == ["A", "B"]
    assert matches[1].verdict == "excluded"
    assert "skipped C: no notes" in done.stdout
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_match_from_facts_gives_what_match_from_notes_gives(tmp_path: Path) -> None:
    # An archive read once by `trialmatch notes`, screened from its facts.
    notes = _write_csv(tmp_path / "notes.csv", NOTES)
    facts = tmp_path / "facts.parquet"
    done = _run("notes", str(notes), "--out", str(facts))
    assert done.returncode == 0, done.stderr
    outputs = {}
    for name, inputs in {
        "notes": ["--notes", str(notes)],
        "facts": ["--facts", str(facts)],
        "both": ["--notes", str(notes), "--facts", str(facts)],
    }.items():
        out = tmp_path / f"{name}.jsonl"
        html = tmp_path / f"{name}.html"
        done = _run(
            "match", "--trial", str(SEED), *inputs, "--as-of", "2026-11-01",
            "--out", str(out), "--html", str(html),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs[name] = (out.read_text(), html.read_text(encoding="utf-8"))
        assert ("facts read" in done.stdout) == (name != "notes")
    assert outputs["notes"][0] == outputs["facts"][0] == outputs["both"][0]
    assert outputs["notes"][1] == outputs["both"][1]
    assert "note text not loaded" in outputs["facts"][1]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("neither", "give --notes (OMOP NOTE rows) or --facts"),
        ("notes-as-facts", "missing required column(s) note_nlp_id"),
        ("bad-date", "is not a date; use YYYY-MM-DD"),
        ("no-columns", "missing required column(s)"),
        ("empty-trial", "the file is empty"),
        ("not-ctgov", "JSON without a 'protocolSection'"),
        ("no-criteria", "no eligibility criteria found"),
        ("utf16-trial", "a binary or UTF-16 file"),
        ("out-is-a-directory", "cannot be written (it is a directory)"),
        ("out-under-a-file", "cannot be written"),
    ],
)
@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, case: str, message: str
) -> None:
    notes = _write_csv(tmp_path / "notes.csv", NOTES)
    trial = SEED
    as_of = "2026-11-01"
    if case == "bad-date":
        as_of = "01/11/2026"
    elif case == "no-columns":
        notes = _write_csv(tmp_path / "bad.csv", [{"id": "1", "text": "hello"}])
    elif case == "empty-trial":
        trial = tmp_path / "empty.txt"
        trial.write_text("")
    elif case == "not-ctgov":
        trial = tmp_path / "other.json"
        trial.write_text('{"foo": 1}')
    elif case == "no-criteria":
        trial = tmp_path / "bare.json"
        trial.write_text('{"protocolSection": {"identificationModule": {}}}')
    elif case == "utf16-trial":
        trial = tmp_path / "listing.txt"
        trial.write_bytes(SEED.read_text(encoding="utf-8").encode("utf-16-le"))
    out = {
        "out-is-a-directory": tmp_path,
        "out-under-a-file": notes / "r.jsonl",
    }.get(case, tmp_path / "r.jsonl")
    inputs = {"neither": [], "notes-as-facts": ["--facts", str(notes)]}
    done = _run(
        "match", "--trial", str(trial), *inputs.get(case, ["--notes", str(notes)]),
        "--as-of", as_of, "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_match_shows_the_listings_warnings(tmp_path: Path) -> None:
    # Without headings every item is an inclusion: the user must be told,
    # as `trialmatch parse` tells them, or a listing of exclusions admits all.
    notes = _write_csv(tmp_path / "notes.csv", NOTES)
    trial = tmp_path / "listing.txt"
    trial.write_text("- Colorectal cancer\n- Prior chemotherapy\n", encoding="utf-8")
    done = _run(
        "match", "--trial", str(trial), "--notes", str(notes), "--as-of",
        "2026-11-01", "--out", str(tmp_path / "r.jsonl"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "trialmatch: warning:" in done.stderr
    assert "every item was read as an inclusion criterion" in done.stderr


@pytest.mark.parametrize(
    ("notes", "as_of", "skipped"),
    [
        # Screening as of a past date: the notes exist but are from its future.
        (
            NOTES,
            "2026-09-01",
            "A: its note is dated after the as-of date 2026-09-01",
        ),
        (
            [{**NOTES[0], "note_text": "Seen today."}, {**NOTES[1], "person_id": "A"}],
            "2026-10-01",
            "A: no facts in 1 note (1 more dated after 2026-10-01)",
        ),
        (
            [{**NOTES[0], "note_text": "Seen today."}],
            "2026-11-01",
            "A: no facts in 1 note",
        ),
    ],
)
def test_a_skipped_patient_says_why(
    tmp_path: Path, notes: list[dict], as_of: str, skipped: str
) -> None:
    from pipeline.matching.run import load_trial, parse_as_of, run_match

    source = _write_csv(tmp_path / "notes.csv", notes)
    run = run_match(load_trial(SEED), str(source), None, parse_as_of(as_of))
    assert skipped in run.skipped


@pytest.mark.parametrize(
    ("patients", "code", "printed"),
    [
        (
            "200",
            0,
            r"bench match: 200 patients x \d+ criteria, 2400 facts: [\d,]+ patients/s",
        ),
        ("-5", 2, r"Invalid value for '--patients'"),
    ],
)
def test_bench_match(patients: str, code: int, printed: str) -> None:
    done = _run("bench", "match", "--patients", patients)
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert re.search(printed, done.stdout + done.stderr)
