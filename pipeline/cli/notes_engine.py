"""Commands of the notes NLP engine: ``eval context`` and ``bench notes``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline import errors
from pipeline.cli import bench_app, eval_app, train_app

SPLITS = ["all", "train", "test"]
BASELINES = ["medspacy"]


@eval_app.command("context")
def eval_context(
    negex: Annotated[Path, typer.Option("--negex", help="NegEx-format TSV file.")],
    split: Annotated[
        str, typer.Option(help="all, or the fixed held-out 'test' / 'train' part.")
    ] = "all",
    baseline: Annotated[
        str | None,
        typer.Option(help="Also score medspaCy's default ConText: 'medspacy'."),
    ] = None,
) -> None:
    """Score negated/historical/hypothetical assertion on a NegEx test set."""
    from pipeline.notes import evaluation

    if split not in SPLITS:
        raise errors.bad_choice(split, "--split", SPLITS)
    if baseline is not None and baseline not in BASELINES:
        raise errors.bad_choice(baseline, "--baseline", BASELINES)
    rows = evaluation.read_negex(negex, split)  # type: ignore[arg-type]
    if not rows:
        raise errors.empty_split(negex, split)
    ours = evaluation.score(rows, evaluation.predict_trialmatch(rows))
    for line in evaluation.report_lines(ours, "trialmatch"):
        typer.echo(line)
    if baseline is not None:
        theirs = evaluation.score(rows, evaluation.predict_medspacy(rows))
        for line in evaluation.report_lines(theirs, "medspacy"):
            typer.echo(line)
        typer.echo(evaluation.summary_line(theirs, len(rows), prefix="medspacy"))
    typer.echo(evaluation.summary_line(ours, len(rows)))


@bench_app.command("notes")
def bench_notes(
    notes: Annotated[Path, typer.Option("--notes", help="CSV file of notes.")],
    column: Annotated[str, typer.Option(help="Column holding the text.")] = (
        "transcription"
    ),
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N notes.")
    ] = None,
    n_process: Annotated[
        int, typer.Option("--n-process", min=1, help="Worker processes.")
    ] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 64,
    baseline: Annotated[
        bool, typer.Option(help="Also run medspaCy's default pipeline.")
    ] = True,
) -> None:
    """Characters per second of the notes pipeline (and medspaCy's), peak memory."""
    from pipeline.notes import bench

    texts = bench.read_note_texts(notes, column, limit)
    results = [bench.bench_trialmatch(texts, n_process, batch_size)]
    if baseline:
        results.append(bench.bench_medspacy(texts, batch_size))
    for line in bench.report_lines(results, texts):
        typer.echo(line)


@train_app.command("context")
def train_context(
    negex: Annotated[Path, typer.Option("--negex", help="NegEx-format TSV file.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Model directory (default models/context_temporality)."),
    ] = None,
) -> None:
    """Train the historical-temporality classifier on the NegEx train part
    (threshold by 5-fold cross-validation on it; the test part is never read)."""
    from pipeline.notes import evaluation
    from pipeline.notes.temporality import DEFAULT_MODEL_DIR

    rows = evaluation.read_negex(negex, "train")
    if not rows:
        raise errors.empty_split(negex, "train")
    saved, cv = evaluation.train_temporality(
        rows, DEFAULT_MODEL_DIR if out is None else out
    )
    typer.echo(f"cv rules-only historical_f1={cv.rule_f1:.3f}")
    for threshold, f1 in cv.f1_by_threshold.items():
        typer.echo(f"cv threshold={threshold:.2f} historical_f1={f1:.3f}")
    typer.echo(f"chosen threshold={cv.best_threshold:.2f}; saved {saved}")
