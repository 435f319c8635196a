"""Shared fixtures: paths to the repository's sample data and the shared corpora,
and the committed criteria NER."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT / "trial_docs" / "NCT05262335.txt"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it are skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED_DATA


@pytest.fixture(scope="session")
def criteria_ner() -> Language:
    """The committed criteria NER (``models/criteria_ner``), loaded once; tests
    that need it are skipped where it was not built."""
    from pipeline.criteria.extract import ner_available
    from pipeline.criteria.ner import load_criteria_ner

    if not ner_available():
        pytest.skip("no trained criteria NER")
    return load_criteria_ner()
