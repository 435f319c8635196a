"""The ``trialmatch`` command line: argument parsing only, the work is in the stages.

Sub-commands are registered by ``pipeline.cli.criteria``, ``pipeline.cli.notes``
and ``pipeline.cli.match``. Every :class:`~pipeline.errors.TrialmatchError` ends
the program with its one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from pipeline.errors import TrialmatchError

app = typer.Typer(
    name="trialmatch",
    help="Screen clinical notes against clinical-trial eligibility criteria.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
eval_app = typer.Typer(help="Measure a stage against gold data.", no_args_is_help=True)
bench_app = typer.Typer(
    help="Measure a stage's speed and memory.", no_args_is_help=True
)
train_app = typer.Typer(
    help="Rebuild a model under models/ from its data.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")
app.add_typer(train_app, name="train")

# Imported for their side effect of registering commands on the apps above.
from pipeline.cli import criteria, match, ner, notes, notes_engine  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``trialmatch`` console script."""
    try:
        app()
    except TrialmatchError as exc:
        typer.echo(f"trialmatch: error: {exc}", err=True)
        sys.exit(2)
