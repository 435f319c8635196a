"""Date expressions resolved against the note's date (``pipeline.notes.dates``)."""

import datetime as dt

import pytest

from pipeline.notes.dates import find_dates

NOTE_DATE = dt.date(2026, 10, 15)


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("PE diagnosed last March", "last March", dt.date(2026, 3, 1)),
        ("seen in October", "in October", dt.date(2026, 10, 1)),
        ("in November", "in November", dt.date(2025, 11, 1)),
        ("diagnosed in 2017", "in 2017", dt.date(2017, 1, 1)),
        ("surgery on 2026-09-14", "2026-09-14", dt.date(2026, 9, 14)),
        ("CT 10/02/2026", "10/02/2026", dt.date(2026, 10, 2)),
        ("CT 9/30/26", "9/30/26", dt.date(2026, 9, 30)),
        ("completed 01/2026", "01/2026", dt.date(2026, 1, 1)),
        ("on March 14, 2025", "March 14, 2025", dt.date(2025, 3, 14)),
        ("on 14 Mar 2025", "14 Mar 2025", dt.date(2025, 3, 14)),
        ("from May 2026", "May 2026", dt.date(2026, 5, 1)),
        ("3 weeks ago", "3 weeks ago", dt.date(2026, 9, 24)),
        ("two months ago", "two months ago", dt.date(2026, 8, 15)),
        ("a year ago", "a year ago", dt.date(2025, 10, 15)),
        ("last week", "last week", dt.date(2026, 10, 8)),
        ("yesterday", "yesterday", dt.date(2026, 10, 14)),
        ("PE years ago", "years ago", None),
    ],
)
def test_date_phrases(text: str, phrase: str, expected: dt.date | None) -> None:
    found = find_dates(text, NOTE_DATE)
    assert [(p.text, p.date) for p in found] == [(phrase, expected)]
    assert text[found[0].start : found[0].end] == phrase


@pytest.mark.parametrize(
    "text",
    ["Hgb 9.1 g/dL", "BP 152/96", "platelets 185", "may be related", "ECOG 0-1"],
)
def test_no_date_in_measurements(text: str) -> None:
    assert find_dates(text, NOTE_DATE) == []


def test_relative_dates_need_the_note_date() -> None:
    assert [p.date for p in find_dates("3 weeks ago", None)] == [None]


def test_impossible_calendar_date_is_none() -> None:
    assert [p.date for p in find_dates("on 02/30/2026", NOTE_DATE)] == [None]


def test_a_number_after_of_is_not_a_year() -> None:
    assert find_dates("beta-quant level of 1931", NOTE_DATE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("diagnosed in March 2024", dt.date(2024, 3, 1)),
        ("last March 2025", dt.date(2025, 3, 1)),
        ("in March, 2024", dt.date(2024, 3, 1)),
    ],
)
def test_month_with_a_year_is_that_year(text: str, expected: dt.date) -> None:
    assert [p.date for p in find_dates(text, NOTE_DATE)] == [expected]


def test_a_full_date_is_not_cut_to_its_year() -> None:
    found = find_dates("on FOLFOX since 2026-09-01", NOTE_DATE)
    assert [(p.text, p.date) for p in found] == [("2026-09-01", dt.date(2026, 9, 1))]
