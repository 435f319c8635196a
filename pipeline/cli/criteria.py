"""Commands of the criteria stage: ``parse`` and ``bench criteria``."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import app, bench_app, eval_app  # noqa: F401
from pipeline.errors import TrialmatchError


class OutputFormat(StrEnum):
    json = "json"
    table = "table"


@app.command("parse")
def parse_command(
    trial_files: Annotated[
        list[Path],
        typer.Argument(
            metavar="TRIAL_FILE...",
            help="Trial listings: web page text, ClinicalTrials.gov API v2 JSON "
            "or plain text with inclusion/exclusion headings.",
        ),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="json (for the matcher) or table.")
    ] = OutputFormat.json,
) -> None:
    """Parse trial listings into structured eligibility criteria.

    JSON is one Trial record per line, in the order of the files. A file that
    cannot be parsed is reported and skipped; the exit status is then 2.
    """
    from rich.console import Console

    from pipeline.criteria import parse_trials
    from pipeline.criteria.display import trial_table

    failed = 0
    for trial in parse_trials(trial_files):
        if isinstance(trial, TrialmatchError):
            failed += 1
            typer.echo(f"trialmatch: error: {trial}", err=True)
            continue
        for warning in trial.warnings:
            typer.echo(f"trialmatch: warning: {warning}", err=True)
        if fmt is OutputFormat.json:
            typer.echo(trial.to_json())
        else:
            Console(width=160).print(trial_table(trial))
    if len(trial_files) > 1:
        parsed = len(trial_files) - failed
        typer.echo(f"parsed {parsed} of {len(trial_files)} listings", err=True)
    if failed:
        raise typer.Exit(2)


@bench_app.command("criteria")
def bench_criteria_command(
    chia: Annotated[
        Path,
        typer.Option(help="Chia BRAT directory whose .txt lines are the workload."),
    ] = Path("../shared/data/chia-dev"),
    limit: Annotated[
        int, typer.Option(min=1, help="Number of criteria to parse.")
    ] = 5000,
    runs: Annotated[
        int,
        typer.Option(
            min=1, help="Timed runs, each in a fresh process; the median is printed."
        ),
    ] = 1,
) -> None:
    """Criteria parsed per second on one core (Chia lines, else the seed repeated)."""
    from pipeline.criteria.bench import (
        bench_criteria_runs,
        chia_workload,
        median_line,
        seed_workload,
    )

    if chia.is_dir() and any(chia.glob("*.txt")):
        workload, name = chia_workload(chia, limit), f"Chia lines from {chia}"
    else:
        workload, name = seed_workload(limit), "seed NCT05262335 criteria repeated"
    results = bench_criteria_runs(workload, name, runs)
    for result in results:
        typer.echo(result.line())
    if runs > 1:
        typer.echo(median_line(results))
