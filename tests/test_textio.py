from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from pipeline.errors import TrialmatchError
from pipeline.textio import prepare_output, read_user_records, read_user_text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"Inclusion \xff\xfe criteria", "not UTF-8"),
        (b"x" * 2048, "limit"),
        # UTF-16 without a byte-order mark decodes as UTF-8 with NULs.
        ("Inclusion criteria".encode("utf-16-le"), "NUL byte at offset 1"),
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


def test_an_output_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "results.jsonl"
    prepare_output(path)
    assert path.parent.is_dir()
    assert not path.exists()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("directory", "it is a directory"),
        ("under-a-file", "a parent of it is a file"),
        # Root passes every permission check; /proc takes no new file all the same.
        ("proc", "cannot be written"),
    ],
)
def test_an_unwritable_output_is_refused(
    tmp_path: Path, where: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    path = {
        "directory": tmp_path,
        "under-a-file": tmp_path / "file.txt" / "results.jsonl",
        "proc": Path("/proc/results.jsonl"),
    }[where]
    with pytest.raises(TrialmatchError, match=message):
        prepare_output(path)


def test_an_existing_output_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("earlier run\n")
    prepare_output(path)
    assert path.read_text() == "earlier run\n"


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
