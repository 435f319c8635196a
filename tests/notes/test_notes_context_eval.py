"""``trialmatch eval context`` on a NegEx-format TSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.notes.evaluation import locate, read_negex, split_of

HEADER = (
    "line number\tCondition\tsentence\tnegation_status (negated, affirmed, possible)\t"
    "temporality (historical, recent, hypothetical)\texperiencer (patient, other)\n"
)
ROWS = [
    ("1", "fever", "She denies fever.", "Negated", "Recent"),
    ("2", "stroke", "History of stroke.", "Affirmed", "Historical"),
    ("3", "chest pain", "Return if chest pain develops.", "Affirmed", "Not particular"),
    ("4", "cough", "Productive cough for two days.", "Affirmed", "Recent"),
]
LAST_LINE = re.compile(
    r"^context: negated_f1=\d\.\d{3} historical_f1=\d\.\d{3} "
    r"hypothetical_f1=\d\.\d{3} n=\d+$"
)


def write_tsv(path: Path) -> Path:
    path.write_text(
        HEADER + "".join("\t".join(r) + "\tPatient\n" for r in ROWS), encoding="utf-8"
    )
    return path


def test_eval_context_last_line(tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "negex.tsv")
    result = CliRunner().invoke(app, ["eval", "context", "--negex", str(tsv)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert LAST_LINE.match(last)
    assert last == (
        "context: negated_f1=1.000 historical_f1=1.000 hypothetical_f1=1.000 n=4"
    )


def test_eval_context_rejects_bad_split(tmp_path: Path) -> None:
    tsv = write_tsv(tmp_path / "negex.tsv")
    result = CliRunner().invoke(
        app, ["eval", "context", "--negex", str(tsv), "--split", "dev"]
    )
    assert result.exit_code != 0


def test_short_row_is_reported(tmp_path: Path) -> None:
    tsv = tmp_path / "bad.tsv"
    tsv.write_text(HEADER + "1\tfever\tNo fever.\n", encoding="utf-8")
    with pytest.raises(Exception, match="line 2"):
        read_negex(tsv)


@pytest.mark.parametrize(
    ("condition", "sentence", "expected"),
    [
        ("chest pain", "No CHEST   PAIN.", "CHEST   PAIN"),
        (
            "neck is supple.  No adenopathy",
            "No adenopathy present.",
            "No adenopathy present.",
        ),
        (
            "tolerate some p.o. fluids",
            "able to tolerate some p.o.",
            "tolerate some p.o.",
        ),
    ],
)
def test_locate(condition: str, sentence: str, expected: str) -> None:
    start, end = locate(condition, sentence)
    assert sentence[start:end] == expected


def test_split_is_deterministic_and_about_30_percent() -> None:
    parts = [split_of(str(i)) for i in range(1000)]
    assert parts == [split_of(str(i)) for i in range(1000)]
    assert 0.25 < parts.count("test") / 1000 < 0.35


@pytest.mark.slow
def test_eval_context_on_negex_test_part(shared_data: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "context",
            "--negex",
            str(shared_data / "negex-dev.tsv"),
            "--split",
            "test",
        ],
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert LAST_LINE.match(last)
    negated = float(re.search(r"negated_f1=(\S+)", last).group(1))
    assert negated >= 0.96
