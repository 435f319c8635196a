"""``trialmatch eval flags``: which criteria send a reviewer to a note, and scoring."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from pipeline.errors import TrialmatchError
from pipeline.matching.flags import (
    Flag,
    flags,
    in_test,
    load_judgements,
    mtsamples_notes,
    score_flags,
)
from pipeline.schema import CriterionAssessment, Evidence, PatientMatch


def _assessment(cid: str, kind: str, status: str, evidence: bool) -> dict:
    shown = [
        Evidence(
            note_id="mt7",
            note_date=None,
            section=None,
            start=40,
            end=48,
            snippet="bleeding",
            modifiers=[],
        )
    ]
    return CriterionAssessment(
        criterion_id=cid,
        kind=kind,
        text=cid,
        status=status,
        evidence=shown if evidence else [],
        rationale="r.",
    )


@pytest.mark.parametrize(
    ("criterion_id", "kind", "status", "evidence", "flagged"),
    [
        ("exc-1", "exclusion", "met", True, True),
        ("exc-1", "exclusion", "unknown", True, True),
        ("exc-1", "exclusion", "not_met", True, False),
        ("exc-1", "exclusion", "met", False, False),
        ("inc-9", "inclusion", "met", True, True),
        ("inc-9", "inclusion", "not_met", True, False),
        # A top-level criterion repeats its deciding sub-criterion's evidence:
        # the top-level one is the flag.
        ("exc-10.1", "exclusion", "met", True, False),
    ],
)
def test_what_counts_as_a_flag(
    criterion_id: str, kind: str, status: str, evidence: bool, flagged: bool
) -> None:
    match = PatientMatch(
        person_id="mt7",
        trial_id="NCT1",
        verdict="excluded",
        score=0.0,
        criteria=[_assessment(criterion_id, kind, status, evidence)],
    )
    expected = [Flag("NCT1", "mt7", criterion_id, status, "mt7", 40)]
    assert flags([match]) == (expected if flagged else [])


def _judgements(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_flags_are_scored_correct_wrong_or_unjudged(tmp_path: Path) -> None:
    judged = load_judgements(
        _judgements(
            tmp_path / "j.jsonl",
            [
                {"trial_id": "T", "criterion_id": "exc-1", "note_id": "a",
                 "start": 1, "correct": True},
                {"trial_id": "T", "criterion_id": "exc-1", "note_id": "b",
                 "start": 2, "correct": False},
            ],
        )
    )  # fmt: skip
    found = [
        Flag("T", "a", "exc-1", "met", "a", 1),
        Flag("T", "b", "exc-1", "met", "b", 2),
        Flag("T", "c", "exc-1", "met", "c", 3),
        # Same place, another trial: not the judged flag.
        Flag("U", "a", "exc-1", "met", "a", 1),
    ]
    score = score_flags(found, judged, "test")
    assert score.precision == 0.5
    assert score.report().splitlines()[-1] == (
        "flags: precision=0.500 correct=1 judged=2 unjudged=2"
    )


def test_a_bad_judgement_line_is_named(tmp_path: Path) -> None:
    path = _judgements(
        tmp_path / "j.jsonl",
        [{"trial_id": "T", "criterion_id": "exc-1", "note_id": "a", "start": 1,
          "correct": True, "reviewer": "me"}],
    )  # fmt: skip
    with pytest.raises(TrialmatchError, match="line 1 is not a flag judgement"):
        load_judgements(path)


def _mtsamples(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "description", "sample_name", "transcription"])
        for i in range(n):
            writer.writerow([i, "d", f" Sample {i} ", f"Patient {i} has hypertension."])
    return path


def test_mtsamples_rows_become_one_patient_each_split_by_index(tmp_path: Path) -> None:
    source = _mtsamples(tmp_path / "mt.csv", 20)
    test = mtsamples_notes(source, "test")
    train = mtsamples_notes(source, "train")
    assert set(test["note_id"]).isdisjoint(train["note_id"])
    assert len(test) + len(train) == 20
    assert set(test["note_id"]) == {f"mt{i}" for i in range(20) if in_test(i)}
    assert (test["person_id"] == test["note_id"]).all()
    assert test["note_title"].iloc[0].startswith("Sample")


@pytest.mark.parametrize(
    ("content", "split", "message"),
    [
        (
            ",sample_name,text\n0,a,b\n",
            "test",
            "missing required column(s) transcription",
        ),
        (",sample_name,transcription\n0,a,b\n", "dev", "--split"),
        ("id,sample_name,transcription\nx7,a,b\n", "test", "not the row number"),
    ],
)
def test_bad_mtsamples_input(
    tmp_path: Path, content: str, split: str, message: str
) -> None:
    path = tmp_path / "mt.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TrialmatchError, match=re.escape(message)):
        mtsamples_notes(path, split)


def _eval_flags(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "eval", "flags", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_eval_flags_from_the_command_line(tmp_path: Path) -> None:
    source = _mtsamples(tmp_path / "mt.csv", 4)
    judgements = _judgements(
        tmp_path / "j.jsonl",
        [{"trial_id": "NCT05262335", "criterion_id": "inc-9", "note_id": "mt0",
          "start": 0, "correct": False}],
    )  # fmt: skip
    done = _eval_flags(
        "--split", "all", "--mtsamples", str(source), "--judgements", str(judgements)
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("flags: precision=") and "judged=0" in last


@pytest.mark.parametrize(
    ("trial", "floor"),
    [
        ("NCT05262335.txt", 0.45),
        ("sample_ctgov_v2.json", 0.6),
        # Three flags: the floor only says one of them is right.
        ("sample_plain.txt", 0.3),
    ],
)
def test_committed_judgements_cover_the_held_out_flags(
    shared_data: Path, trial: str, floor: float
) -> None:
    """The held-out figures README quotes: their flags are all judged, and the
    operative-note fixes they measure (risk lists, procedure consent, nursing
    staff, non-intestinal obstruction, venous events as arterial) stay fixed."""
    from pipeline.matching.flags import evaluate_flags

    score = evaluate_flags(
        ROOT / "trial_docs" / trial,
        shared_data / "mtsamples-401.csv",
        ROOT / "annotations" / "mtsamples_flag_judgements.jsonl",
        "test",
    )
    assert score.total("unjudged") == 0
    assert score.precision >= floor


def test_results_that_are_not_match_results_are_named(tmp_path: Path) -> None:
    from pipeline.matching.run import read_jsonl

    path = tmp_path / "results.jsonl"
    path.write_text('{"person_id": "P1"}\n', encoding="utf-8")
    with pytest.raises(TrialmatchError, match="line 1 is not a match result"):
        read_jsonl(path)


def test_eval_flags_scores_a_results_file(tmp_path: Path) -> None:
    match = PatientMatch(
        person_id="mt7",
        trial_id="NCT1",
        verdict="excluded",
        score=0.0,
        criteria=[_assessment("exc-1", "exclusion", "met", True)],
    )
    results = tmp_path / "results.jsonl"
    results.write_text(match.to_json() + "\n", encoding="utf-8")
    judgements = _judgements(
        tmp_path / "j.jsonl",
        [{"trial_id": "NCT1", "criterion_id": "exc-1", "note_id": "mt7",
          "start": 40, "correct": True}],
    )  # fmt: skip
    done = _eval_flags("--results", str(results), "--judgements", str(judgements))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "flags: precision=1.000 correct=1 judged=1 unjudged=0"
    )
