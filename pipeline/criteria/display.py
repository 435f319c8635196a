"""A readable table of a parsed trial (``trialmatch parse --format table``)."""

from __future__ import annotations

from rich.table import Table

from pipeline.schema import Criterion, Trial, ValueConstraint

_EXCERPT = 70


def _value(v: ValueConstraint) -> str:
    number = (
        f"{v.value:g}-{v.value_high:g}" if v.value_high is not None else f"{v.value:g}"
    )
    comparator = "" if v.comparator == "between" else f"{v.comparator} "
    sex = f" ({v.sex})" if v.sex else ""
    return f"{v.measure} {comparator}{number}{' ' + v.unit if v.unit else ''}{sex}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"


def _row(table: Table, c: Criterion, depth: int) -> None:
    notes = []
    if c.negated:
        notes.append("negated")
    if c.sub_criteria:
        notes.append(f"{c.combine} of {len(c.sub_criteria)}")
    elif c.combine == "any":
        notes.append("any of its mentions")
    notes += [f"excluding {e.concept_id or e.text}" for e in c.excluding]
    notes += [f"except: {_excerpt(x.text)}" for x in c.exceptions]
    table.add_row(
        "  " * depth + c.id,
        c.kind,
        _excerpt(c.text),
        "\n".join(_value(v) for v in c.values),
        "\n".join(
            ("at least " if w.minimum else "")
            + f"{w.days:g} d"
            + (f" from {w.anchor}" if w.anchor else "")
            for w in c.time_windows
        ),
        "\n".join(notes),
    )
    for child in c.sub_criteria:
        _row(table, child, depth + 1)


def trial_table(trial: Trial) -> Table:
    """One row per criterion and sub-criterion: id, kind, text, values, windows."""
    title = " · ".join(x for x in (trial.trial_id, trial.title) if x)
    table = Table(title=title or None, show_lines=True)
    for header in ("id", "kind", "text", "values", "windows", "notes"):
        table.add_column(header, overflow="fold")
    for criterion in trial.criteria:
        _row(table, criterion, 0)
    return table
