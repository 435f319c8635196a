"""``trialmatch bench notes`` on a tiny CSV: the report's shape, not its speed."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app


def write_csv(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["description", "transcription"])
        writer.writerow(["a", "HISTORY: Colon cancer on FOLFOX. No DVT."])
        writer.writerow(["b", "FAMILY HISTORY: Mother with breast cancer."])
        writer.writerow(["c", ""])
    return path


def test_bench_notes_report(tmp_path: Path) -> None:
    notes = write_csv(tmp_path / "notes.csv")
    result = CliRunner().invoke(app, ["bench", "notes", "--notes", str(notes)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "notes: 2 characters: 82"
    assert re.match(r"trialmatch: [\d,]+ chars/s per core .* mentions=\d+$", lines[1])
    assert lines[2].startswith("medspacy: ")
    assert re.match(r"ratio: [\d.]+x", lines[3])
    assert re.match(r"peak memory: \d+ MB", lines[4])


def test_bench_notes_without_text_column(tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "notes", "--notes", str(notes)])
    assert result.exit_code != 0
    assert "transcription" in str(result.exception) + result.output
