"""Reading back the facts ``trialmatch notes`` wrote: every form, every row
kept or rejected with its reason."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import TrialmatchError
from pipeline.notes import facts_from_text, read_facts
from pipeline.notes.facts import facts_frame
from pipeline.notes.io import write_table

TEXT = (
    "Hemoglobin 86 g/L on 2026-10-02. No prior chemotherapy. "
    "Father had a stroke. Takes apixaban 5 mg twice daily."
)


@pytest.fixture(scope="module")
def facts() -> pd.DataFrame:
    rows = facts_from_text(
        TEXT, note_id="n1", person_id="P1", note_date=dt.date(2026, 10, 3)
    )
    return facts_frame([f.model_dump() for f in rows])


def test_the_text_holds_every_kind_of_column(facts: pd.DataFrame) -> None:
    # The round trip below only proves something if values, units, dates,
    # modifiers and blanks are all present.
    assert facts["value_as_number"].notna().any()
    assert facts["unit"].notna().any() and facts["unit"].isna().any()
    assert facts["event_date"].notna().any()
    assert facts["negated"].any() and facts["family"].any()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_round_trip_of_every_output_form(
    facts: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"facts.{fmt}"
    write_table(facts, path, fmt)
    read = read_facts(str(path))
    pd.testing.assert_frame_equal(read.facts, facts)
    assert read.rejected.empty
    assert read.summary() == f"facts read {len(facts)}, kept {len(facts)}, rejected 0"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("negated", "maybe", "negated: Input should be a valid boolean"),
        ("offset", "x", "offset: Input should be a valid integer"),
        ("comparator", "about", "comparator: Input should be"),
        ("concept_id", "", "concept_id: Input should be a valid string"),
        ("note_date", "someday", "note_date: Input should be a valid date"),
    ],
)
def test_bad_row_is_rejected_with_its_reason(
    facts: pd.DataFrame, tmp_path: Path, column: str, value: str, reason: str
) -> None:
    path = tmp_path / "facts.csv"
    write_table(facts, path, "csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[1, column] = value
    frame.to_csv(path, index=False)
    read = read_facts(str(path))
    assert len(read.facts) == len(facts) - 1
    [rejected] = read.rejected.to_dict("records")
    assert (rejected["table"], rejected["row"], rejected["note_id"]) == (
        "note_nlp",
        2,
        "n1",
    )
    assert rejected["reason"].startswith(reason)
    assert read.summary().endswith(f"rejected 1 (1 {rejected['reason']})")


def test_database_table_with_integer_ids(facts: pd.DataFrame, tmp_path: Path) -> None:
    frame = facts.copy()
    frame["person_id"] = 7
    frame["note_id"] = 1001
    for column in ("note_date", "nlp_date", "event_date"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    database = tmp_path / "omop.db"
    with sqlite3.connect(database) as connection:
        frame.to_sql("note_nlp", connection, index=False)
    read = read_facts(f"sqlite:///{database}")
    assert read.rejected.empty
    assert set(read.facts["person_id"]) == {"7"}
    assert set(read.facts["note_id"]) == {"1001"}


def test_missing_columns_name_themselves(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("note_id,person_id,note_text\nn1,P1,hello\n")
    with pytest.raises(
        TrialmatchError, match=r"missing required column\(s\) note_nlp_id"
    ):
        read_facts(str(path))
