"""Rules kept as data: JSON/JSONL files in this package, validated on load.

Each resource is read with :mod:`importlib.resources` and validated against a
pydantic model that forbids unknown keys, so a typo in a rule file is an error
at start-up rather than a silently ignored rule.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pipeline import errors

M = TypeVar("M", bound=BaseModel)


@cache
def read_text(name: str) -> str:
    """The text of resource file ``name`` (e.g. ``"units.json"``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def load_json(name: str, model: type[M]) -> M:
    """Load a JSON resource as one ``model`` instance."""
    try:
        return model.model_validate_json(read_text(name))
    except ValidationError as exc:
        raise errors.bad_resource(name, _first_error(exc)) from exc


def load_jsonl(name: str, model: type[M]) -> list[M]:
    """Load a JSONL resource (one ``model`` per non-blank line)."""
    records = []
    for lineno, line in enumerate(read_text(name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate(json.loads(line)))
        except (ValidationError, json.JSONDecodeError) as exc:
            detail = _first_error(exc) if isinstance(exc, ValidationError) else exc
            raise errors.bad_resource(name, f"line {lineno}: {detail}") from exc
    return records


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}"
