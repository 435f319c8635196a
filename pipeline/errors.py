"""Every message trialmatch shows a user about bad input, in one place.

Each function returns a :class:`TrialmatchError` whose text says what is wrong
and what to do about it. The CLI prints the text on one line and exits with
status 2; library callers catch ``TrialmatchError``.
"""

from __future__ import annotations

from pathlib import Path


class TrialmatchError(Exception):
    """An error caused by input the user can fix; its message says how."""


def file_not_found(path: Path) -> TrialmatchError:
    return TrialmatchError(f"{path}: no such file; check the path.")


def not_utf8(path: Path, position: int) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: not UTF-8 text (bad byte at offset {position}); "
        "re-save the file as UTF-8."
    )


def empty_input(path: Path) -> TrialmatchError:
    return TrialmatchError(f"{path}: the file is empty.")


def file_too_large(path: Path, size: int, limit: int) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: {size:,} bytes is more than the {limit:,}-byte limit for this "
        "input; split the file or pass only the part you need."
    )


def bad_resource(name: str, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"resource {name} is invalid: {detail}; fix the file under pipeline/resources/."
    )


def model_missing(path: Path, train_command: str) -> TrialmatchError:
    return TrialmatchError(
        f"no trained model at {path}; build it with `{train_command}`."
    )


def bad_date(value: str, what: str) -> TrialmatchError:
    return TrialmatchError(f"{what} {value!r} is not a date; use YYYY-MM-DD.")
