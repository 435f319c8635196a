"""``trialmatch parse`` and ``trialmatch bench criteria``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from pipeline.cli import app, main
from pipeline.criteria import parse_trials
from pipeline.errors import TrialmatchError
from pipeline.schema import Trial

SEED = ROOT / "trial_docs" / "NCT05262335.txt"


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> tuple[int, str, str]:
    """The console script as a user runs it: exit status, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["trialmatch", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    out = capsys.readouterr()
    return int(stop.value.code or 0), out.out, out.err


def test_parse_json_is_a_trial_record() -> None:
    result = CliRunner().invoke(app, ["parse", str(SEED)])
    assert result.exit_code == 0, result.output
    trial = Trial.from_json(result.stdout)
    assert trial.trial_id == "NCT05262335"
    assert (len(trial.criteria), len(trial.all_criteria())) == (31, 44)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (SEED, ["inc-1.3", "exc-10.7", "qtc > 450 ms (male)", "28 d from first_dose"]),
        (ROOT / "trial_docs" / "sample_ctgov_v2.json", ["inc-4.1", "neutrophils"]),
        (ROOT / "trial_docs" / "sample_plain.txt", ["inc-5.3", "hemoglobin >= 9 g/dL"]),
    ],
)
def test_parse_table(path: Path, shown: list[str]) -> None:
    result = CliRunner().invoke(app, ["parse", str(path), "--format", "table"])
    assert result.exit_code == 0, result.output
    for text in shown:
        assert text in result.stdout


def test_the_table_shows_alternatives_and_least_times(tmp_path: Path) -> None:
    listing = tmp_path / "listing.txt"
    listing.write_text(
        "Inclusion Criteria:\n"
        "- History of stroke or myocardial infarction\n"
        "- At least 4 weeks since prior chemotherapy\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["parse", str(listing), "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "any of its mentions" in result.stdout
    assert "at least 28 d" in result.stdout


def test_bench_falls_back_to_the_seed(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["bench", "criteria", "--chia", str(tmp_path / "absent"), "--limit", "100"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(
        r"criteria: [\d,]+ criteria/s on one core \(100 criteria", result.stdout
    )
    assert "seed NCT05262335" in result.stdout


def test_bench_reads_chia_lines(tmp_path: Path) -> None:
    (tmp_path / "NCT1_inc.txt").write_text(
        "Age >= 18 years\nECOG 0-1\n", encoding="utf-8"
    )
    (tmp_path / "NCT1_exc.txt").write_text("Pregnancy\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "criteria", "--chia", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "(3 criteria" in result.stdout and "Chia lines" in result.stdout


@pytest.mark.slow
def test_bench_runs_print_each_run_and_the_median(tmp_path: Path) -> None:
    (tmp_path / "NCT1_inc.txt").write_text("Age >= 18 years\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["bench", "criteria", "--chia", str(tmp_path), "--runs", "2"]
    )
    assert result.exit_code == 0, result.output
    runs = re.findall(
        r"criteria: ([\d,]+) criteria/s on one core \(1 criteria", result.stdout
    )
    assert len(runs) == 2
    assert f"over 2 runs ({runs[0]}, {runs[1]})" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"Inclusion criteria\n- caf\xe9 au lait", "not UTF-8"),
        (b'{"protocolSection": {', "not valid JSON"),
        (b'{"studies": []}', "protocolSection"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "trial.txt"
    path.write_bytes(content)
    code, out, err = run_main(["parse", str(path)], monkeypatch, capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err


def test_a_batch_of_listings_keeps_every_good_one_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"protocolSection": {', encoding="utf-8")
    plain = ROOT / "trial_docs" / "sample_plain.txt"
    args = ["parse", str(SEED), str(bad), str(plain)]
    code, out, err = run_main(args, monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err
    trials = [Trial.from_json(line) for line in out.splitlines()]
    assert [t.trial_id for t in trials] == ["NCT05262335", "NCT09990002"]
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and "broken.json" in errors[0]
    assert "parsed 2 of 3 listings" in err


def test_parse_trials_yields_an_error_in_place_of_a_bad_listing(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    results = list(parse_trials([empty, SEED]))
    assert isinstance(results[0], TrialmatchError)
    assert isinstance(results[1], Trial) and results[1].trial_id == "NCT05262335"


def test_a_10_mb_listing_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * (10 * 1024 * 1024))
    code, _, err = run_main(["parse", str(path)], monkeypatch, capsys)
    assert code == 2 and "limit" in err and len(err.strip().splitlines()) == 1


def test_missing_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_main(["parse", str(tmp_path / "nope.txt")], monkeypatch, capsys)
    assert code == 2 and "no such file" in err


@pytest.mark.parametrize(
    ("content", "warning", "n_criteria"),
    [
        (
            json.dumps(
                {"protocolSection": {"identificationModule": {"nctId": "NCT01"}}}
            ),
            "eligibilityModule",
            0,
        ),
        ("- Age 18 years or older\n- ECOG 0-1\n", "no 'Inclusion criteria'", 2),
    ],
)
def test_recoverable_input_warns_and_does_its_best(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    content: str,
    warning: str,
    n_criteria: int,
) -> None:
    path = tmp_path / "trial.txt"
    path.write_text(content, encoding="utf-8")
    code, out, err = run_main(["parse", str(path)], monkeypatch, capsys)
    assert code == 0
    assert warning in err and "Traceback" not in err
    trial = Trial.from_json(out)
    assert len(trial.criteria) == n_criteria
    assert any(warning in w for w in trial.warnings)
