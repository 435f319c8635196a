"""Reading listings in their three forms, and refusing bad files clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from pipeline.criteria.ingest import heading_kind, is_furniture, read_listing
from pipeline.errors import TrialmatchError

SEED = ROOT / "trial_docs" / "NCT05262335.txt"
SAMPLE_JSON = ROOT / "trial_docs" / "sample_ctgov_v2.json"
SAMPLE_TEXT = ROOT / "trial_docs" / "sample_plain.txt"


def test_seed_page_metadata_and_regions() -> None:
    listing = read_listing(SEED)
    assert listing.source_format == "page"
    assert listing.metadata["trial_id"] == "NCT05262335"
    assert listing.metadata["title"].endswith("(ALTER-G-001)")
    assert listing.metadata["conditions"] == ["Gastrointestinal Tumors"]
    assert listing.metadata["phase"] == "Phase 2"
    assert listing.metadata["status"] == "Enrolling"
    assert (listing.metadata["min_age_years"], listing.metadata["max_age_years"]) == (
        18.0,
        75.0,
    )
    assert len(listing.metadata["arms"]) == 3
    kinds = [r.kind for r in listing.regions]
    assert kinds == ["inclusion", "exclusion"]
    exclusion = listing.source[listing.regions[1].start : listing.regions[1].end]
    assert exclusion.strip().startswith("Patients with active bleeding")
    assert "Trial design" not in exclusion and "Loading..." not in exclusion


def test_ctgov_json_sample() -> None:
    listing = read_listing(SAMPLE_JSON)
    assert listing.source_format == "ctgov_json"
    meta = listing.metadata
    assert meta["trial_id"] == "NCT09990001"
    assert meta["phase"] == "Phase 2/Phase 3"
    assert meta["status"] == "Recruiting"
    assert meta["min_age_years"] == 18.0 and "max_age_years" not in meta
    assert meta["arms"] == ["mFOLFOX6 + bevacizumab", "mFOLFOX6"]
    record = json.loads(SAMPLE_JSON.read_text(encoding="utf-8"))
    criteria = record["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    assert listing.source == criteria
    assert [r.kind for r in listing.regions] == ["inclusion", "exclusion"]


def test_plain_text_sample() -> None:
    listing = read_listing(SAMPLE_TEXT)
    assert listing.source_format == "text"
    assert listing.metadata["trial_id"] == "NCT09990002"
    assert listing.metadata["title"].startswith("SAMPLE (hand-written")
    assert [r.kind for r in listing.regions] == ["inclusion", "exclusion"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Inclusion criteria", "inclusion"),
        ("Inclusion Criteria:", "inclusion"),
        ("**KEY INCLUSION CRITERIA:**", "inclusion"),
        ("Exclusion criteria", "exclusion"),
        ("  Exclusion Criteria: ", "exclusion"),
        ("Patients must not have any exclusion criteria", None),
        ("Inclusion of women", None),
    ],
)
def test_heading_kind(line: str, kind: str | None) -> None:
    assert heading_kind(line) == kind


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("Menu", True),
        ("Loading...", True),
        ("Shanghai Jiao Tong University logo", True),
        ("Data sourced from clinicaltrials.gov", True),
        ("Known to have active tuberculosis;", False),
    ],
)
def test_furniture(line: str, furniture: bool) -> None:
    assert is_furniture(line) is furniture


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\n ", "the file is empty"),
        (b"Inclusion criteria\n\xff\xfe bad", "not UTF-8"),
        (b'{"protocolSection": ', "not valid JSON"),
        (b'{"studies": []}', "without a 'protocolSection'"),
        (b"[1, 2]", "without a 'protocolSection'"),
    ],
)
def test_bad_files_raise_one_clear_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "trial.txt"
    path.write_bytes(content)
    with pytest.raises(TrialmatchError, match=message):
        read_listing(path)


def test_a_10_mb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"Inclusion criteria\n" + b"- Age >= 18 years\n" * 600_000)
    assert path.stat().st_size > 10_000_000
    with pytest.raises(TrialmatchError, match="limit"):
        read_listing(path)


def test_inline_headings(tmp_path: Path) -> None:
    path = tmp_path / "trial.txt"
    path.write_text(
        "Inclusion Criteria: Age >= 18 years\nExclusion Criteria: Pregnancy\n",
        encoding="utf-8",
    )
    listing = read_listing(path)
    texts = [listing.source[r.start : r.end].strip() for r in listing.regions]
    assert texts == ["Age >= 18 years", "Pregnancy"]
    assert [r.kind for r in listing.regions] == ["inclusion", "exclusion"]


def test_json_without_eligibility_module_warns(tmp_path: Path) -> None:
    path = tmp_path / "trial.json"
    record = {"protocolSection": {"identificationModule": {"nctId": "NCT01234567"}}}
    path.write_text(json.dumps(record), encoding="utf-8")
    listing = read_listing(path)
    assert listing.metadata["trial_id"] == "NCT01234567"
    assert listing.regions == []
    assert any("eligibilityModule" in w for w in listing.warnings)


def test_text_without_headings_warns_and_reads_inclusions(tmp_path: Path) -> None:
    path = tmp_path / "trial.txt"
    path.write_text("- Age 18 or older\n- ECOG 0-1\n", encoding="utf-8")
    listing = read_listing(path)
    assert [r.kind for r in listing.regions] == ["inclusion"]
    assert any("no 'Inclusion criteria'" in w for w in listing.warnings)
    assert "title" not in listing.metadata
