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
    refuse_binary(path, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.not_utf8(path, exc.start) from exc
    if not text.strip():
        raise errors.empty_input(path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def refuse_binary(path: Path, data: bytes, scan: int | None = None) -> None:
    """Stop on a NUL byte among the first ``scan`` bytes of ``data`` (all of it
    when ``scan`` is None).

    Text never holds NUL bytes; binary files and UTF-16 text do, and would
    otherwise fail as "not UTF-8" at a byte that explains nothing, or decode
    as garbage.
    """
    nul = data.find(b"\x00", 0, len(data) if scan is None else scan)
    if nul >= 0:
        raise errors.binary_input(path, nul)


def prepare_output(path: Path) -> None:
    """Create ``path``'s directory and check that ``path`` can be written.

    Called before a command does its work, so that a run which could only fail
    when it writes its results fails at once instead, with nothing lost; the
    writers call it too. The file is opened for appending, as the write will
    open it (permission bits say little to root, and nothing of /proc), and
    removed again if this made it.
    """
    if path.is_dir():
        raise errors.cannot_write(path, "it is a directory")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.open("a").close()
    except (FileExistsError, NotADirectoryError) as exc:
        raise errors.cannot_write(path, "a parent of it is a file") from exc
    except OSError as exc:
        raise errors.cannot_write(path, exc.strerror or str(exc)) from exc
    if not existed:
        path.unlink()


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
