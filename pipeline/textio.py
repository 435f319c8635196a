"""Reading user files safely: existence, size, emptiness and encoding checked once."""

from __future__ import annotations

from pathlib import Path

from pipeline import errors


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
