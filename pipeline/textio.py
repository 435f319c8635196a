"""Reading user files safely: existence, size, emptiness and encoding checked once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pipeline import errors

M = TypeVar("M", bound=BaseModel)


def read_user_text(path: Path, limit_bytes: int) -> str:
    """The UTF-8 text of ``path``, or a :class:`~pipeline.errors.TrialmatchError`.

    A byte-order mark is dropped and CRLF line ends become LF, so that character
    offsets reported downstream index the same text the user sees in an editor.
    """
    if not path.is_file():
        raise errors.file_not_found(path)
    size = path.stat().st_size
    if size > limit_bytes:
        raise errors.file_too_large(path, size, limit_bytes)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.not_utf8(path, exc.start) from exc
    if not text.strip():
        raise errors.empty_input(path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_user_records(
    path: Path,
    model: type[M],
    limit_bytes: int,
    bad_line: Callable[[Path, int, str], errors.TrialmatchError],
) -> list[M]:
    """One ``model`` per non-blank line of a JSONL file; the first line that
    fails validation stops with ``bad_line(path, line number, pydantic's reason)``."""
    records = []
    for lineno, line in enumerate(read_user_text(path, limit_bytes).splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as exc:
            raise bad_line(path, lineno, exc.errors()[0]["msg"]) from exc
    return records
