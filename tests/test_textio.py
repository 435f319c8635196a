from pathlib import Path

import pytest

from pipeline.errors import TrialmatchError
from pipeline.textio import read_user_text


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
