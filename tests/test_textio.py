from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from pipeline.errors import TrialmatchError
from pipeline.textio import read_user_records, read_user_text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"Inclusion \xff\xfe criteria", "not UTF-8"),
        (b"x" * 2048, "limit"),
    ],
)
def test_bad_files_raise_a_clear_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    with pytest.raises(TrialmatchError, match=message):
        read_user_text(path, limit_bytes=1024)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TrialmatchError, match="no such file"):
        read_user_text(tmp_path / "nope.txt", limit_bytes=1024)


def test_crlf_and_bom_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes("\ufeffa\r\nb\rc".encode())
    assert read_user_text(path, limit_bytes=1024) == "a\nb\nc"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int


def test_records_are_read_line_by_line_and_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"n": 1}\n\n{"n": 2}\n', encoding="utf-8")
    assert [r.n for r in read_user_records(path, _Row, 1000, _bad)] == [1, 2]
    path.write_text('{"n": 1}\n{"n": "x", "m": 0}\n', encoding="utf-8")
    with pytest.raises(TrialmatchError, match="line 2:"):
        read_user_records(path, _Row, 1000, _bad)


def _bad(path: Path, lineno: int, detail: str) -> TrialmatchError:
    return TrialmatchError(f"{path.name} line {lineno}: {detail}")
