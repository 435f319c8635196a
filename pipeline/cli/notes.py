"""Commands of the notes stage."""

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import app, bench_app, eval_app  # noqa: F401


@app.command("notes")
def notes_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="NOTES_FILE",
            help="Notes (OMOP NOTE columns) as .csv/.jsonl/.parquet, or a "
            "SQLAlchemy URL such as sqlite:///notes.db.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the facts.")],
    persons: Annotated[
        str | None,
        typer.Option(help="Person table (person_id, birth_date/year_of_birth, sex)."),
    ] = None,
    table: Annotated[
        str, typer.Option(help="Table to read when NOTES_FILE is a URL.")
    ] = "note",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="parquet, csv or jsonl (default: from --out's suffix)."
        ),
    ] = None,
) -> None:
    """Turn clinical notes into NOTE_NLP-shaped facts (one row per mention)."""
    from pipeline.notes import extract_facts, read_notes
    from pipeline.notes.io import output_format, rejected_path, write_table
    from pipeline.textio import prepare_output

    chosen = output_format(out, fmt)
    rejected = rejected_path(out)
    prepare_output(out)
    prepare_output(rejected)
    notes_input = read_notes(source, table=table, persons=persons)
    facts = extract_facts(notes_input.notes)
    write_table(facts, out, chosen)
    write_table(notes_input.rejected, rejected, "csv")
    typer.echo(
        f"{notes_input.summary()}; facts written {len(facts)} to {out} "
        f"(rejected rows in {rejected})"
    )


@eval_app.command("facts")
def eval_facts_command(
    notes: Annotated[
        str, typer.Option(help="Notes file (NOTE columns) the gold facts are about.")
    ] = "annotations/notes/notes.jsonl",
    gold: Annotated[
        Path, typer.Option(help="Gold facts, one JSON object per line.")
    ] = Path("annotations/notes/gold_facts.jsonl"),
    show: Annotated[
        bool, typer.Option(help="List missed gold rows and extra facts.")
    ] = True,
) -> None:
    """Precision/recall of extracted facts against hand-written gold facts."""
    from pipeline.notes import extract_facts, read_notes
    from pipeline.notes.fact_eval import load_gold, score_facts

    score = score_facts(extract_facts(read_notes(notes).notes), load_gold(gold))
    if show:
        for row in score.missed:
            typer.echo(f"missed: {row.model_dump_json(exclude_defaults=True)}")
        for fact in score.extra:
            typer.echo(
                f"extra: {fact['note_id']} {fact['concept_id']} "
                f"{fact['lexical_variant']!r} {fact['term_modifiers']}"
            )
        for row in score.traps_failed:
            typer.echo(f"trap failed: {row.model_dump_json(exclude_defaults=True)}")
    typer.echo(score.line())
