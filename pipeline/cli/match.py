"""Commands of the match stage: ``match``, ``eval trialgpt|flags``, ``bench match``,
``train ranker``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipeline.cli import app, bench_app, eval_app, train_app


@app.command("match")
def match(
    trial: Annotated[Path, typer.Option(help="Trial listing (page text or JSON).")],
    out: Annotated[Path, typer.Option(help="Results, one JSON object per patient.")],
    notes: Annotated[
        str | None, typer.Option(help="Notes: CSV/JSONL/Parquet or DB URL.")
    ] = None,
    facts: Annotated[
        str | None,
        typer.Option(help="Facts written by `trialmatch notes`, instead of --notes."),
    ] = None,
    persons: Annotated[
        str | None, typer.Option(help="Person table (person_id, birth_date, sex).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Screening date YYYY-MM-DD (default: today)."),
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report.")] = None,
) -> None:
    """Screen every patient of a note archive against one trial, best first.

    Give the notes (--notes), or the facts `trialmatch notes` extracted from
    them once (--facts), with the notes too if the report should show them."""
    from pipeline.matching.report import ranked_table, write_html
    from pipeline.matching.run import load_trial, parse_as_of, run_match, write_jsonl
    from pipeline.textio import prepare_output

    screen_date = parse_as_of(as_of)
    for path in (out, html):
        if path is not None:
            prepare_output(path)
    listing = load_trial(trial)
    for warning in listing.warnings:
        typer.echo(f"trialmatch: warning: {warning}", err=True)
    run = run_match(listing, notes, persons, screen_date, facts_source=facts)
    write_jsonl(run.matches, out)
    if html is not None:
        write_html(run, html)
    console = Console()
    console.print(ranked_table(run.matches, run.trial))
    console.print(run.notes_summary)
    for line in run.skipped:
        console.print(f"skipped {line}")
    console.print(f"wrote {len(run.matches)} patients to {out}")
    if html is not None:
        console.print(f"wrote report to {html}")


@eval_app.command("trialgpt")
def eval_trialgpt(
    annotations: Annotated[
        Path, typer.Option(help="TrialGPT criterion-level JSON file.")
    ] = Path("../shared/data/trialgpt-criterion-dev.json"),
    split: Annotated[str, typer.Option(help="all, test or train.")] = "test",
) -> None:
    """Criterion-level agreement with TrialGPT's expert labels."""
    from pipeline.matching.trialgpt import evaluate, format_report

    typer.echo(format_report(evaluate(annotations, split)))


@eval_app.command("flags")
def eval_flags(
    mtsamples: Annotated[
        Path, typer.Option(help="MTSamples CSV (one patient per transcription).")
    ] = Path("../shared/data/mtsamples-401.csv"),
    judgements: Annotated[
        Path, typer.Option(help="Reviewer judgements of flags (JSONL).")
    ] = Path("annotations/mtsamples_flag_judgements.jsonl"),
    trial: Annotated[Path, typer.Option(help="Trial listing.")] = Path(
        "trial_docs/NCT05262335.txt"
    ),
    split: Annotated[str, typer.Option(help="all, test or train.")] = "test",
    results: Annotated[
        Path | None,
        typer.Option(
            help="Score the flags of this results.jsonl (from trialmatch match) "
            "instead of screening MTSamples."
        ),
    ] = None,
) -> None:
    """Precision of the evidence shown to reviewers, against their judgements."""
    from pipeline.matching.flags import evaluate_flags, evaluate_results

    if results is not None:
        typer.echo(evaluate_results(results, judgements).report())
    else:
        typer.echo(evaluate_flags(trial, mtsamples, judgements, split).report())


@bench_app.command("match")
def bench_match(
    patients: Annotated[int, typer.Option(min=1, help="Generated patients.")] = 100_000,
    trial: Annotated[Path, typer.Option(help="Trial listing.")] = Path(
        "trial_docs/NCT05262335.txt"
    ),
) -> None:
    """Patients scored per second against a trial, on generated note facts."""
    from pipeline.matching.bench import bench

    typer.echo(bench(trial, patients))


@train_app.command("ranker")
def train_ranker(
    pairs: Annotated[
        Path, typer.Option(help="Labelled patient-trial pairs CSV.")
    ] = Path("annotations/matching_ranker_pairs.csv"),
) -> None:
    """Fit the calibrated ranker on labelled pairs and save it under models/ranker/."""
    from pipeline.matching.training import train

    typer.echo(train(pairs))
