"""Criteria stage: trial listings become structured, typed criteria.

``parse_trial(path)`` reads a listing (web page text, ClinicalTrials.gov API v2
JSON or plain text), cuts its eligibility section into a tree of criteria with
offsets into the source, and extracts each criterion's entities, numeric
limits, time windows, negation, exclusions and exceptions.
``parse_trials(paths)`` parses many listings in one process.
``parse_criterion(text, kind)`` does the same for one criterion text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pipeline import errors
from pipeline.criteria.extract import extract_many, extract_segments, ner_available
from pipeline.criteria.ingest import (
    Listing,
    is_furniture,
    listing_from_text,
    read_listing,
)
from pipeline.criteria.ner import DEFAULT_MODEL_DIR, TRAIN_COMMAND
from pipeline.criteria.segment import segment_regions, segment_text
from pipeline.errors import TrialmatchError
from pipeline.schema import Criterion, CriterionKind, Trial

__all__ = [
    "parse_criteria",
    "parse_criterion",
    "parse_listing_text",
    "parse_trial",
    "parse_trials",
]


def parse_trial(path: Path) -> Trial:
    """The structured :class:`~pipeline.schema.Trial` of the listing at ``path``.

    Raises :class:`~pipeline.errors.TrialmatchError` for unreadable input;
    recoverable problems (no headings, no eligibility module) become
    ``Trial.warnings`` and a best-effort result.
    """
    return _trial(read_listing(path), path)


def parse_trials(paths: Iterable[Path]) -> Iterator[Trial | TrialmatchError]:
    """Each listing of ``paths`` parsed in turn by one pipeline (built once).

    A listing that cannot be read yields its error in its place, so one bad
    file in a batch of re-ingested listings loses none of the others.
    """
    for path in paths:
        try:
            yield parse_trial(path)
        except TrialmatchError as error:
            yield error


def parse_listing_text(text: str, path: Path = Path("<text>")) -> Trial:
    """:func:`parse_trial` for text already in memory (``path`` names it)."""
    return _trial(listing_from_text(text, path), path)


def parse_criterion(
    text: str, kind: CriterionKind, criterion_id: str = "c-1"
) -> Criterion:
    """One criterion text parsed on its own; offsets index ``text``."""
    return parse_criteria([text], kind, [criterion_id])[0]


def parse_criteria(
    texts: Sequence[str],
    kind: CriterionKind,
    criterion_ids: Sequence[str] | None = None,
) -> list[Criterion]:
    """Many criterion texts parsed in one batch (ids default to ``c-1``, ``c-2``...).

    Each result's offsets index its own text.
    """
    ids = criterion_ids or [f"c-{i}" for i in range(1, len(texts) + 1)]
    segments = [
        segment_text(text, kind, cid) for text, cid in zip(texts, ids, strict=True)
    ]
    batches = [
        (text, [seg] if seg else []) for text, seg in zip(texts, segments, strict=True)
    ]
    out: list[Criterion] = []
    for _batch, cid, found in zip(batches, ids, extract_many(batches), strict=True):
        out.extend(found or [Criterion(id=cid, kind=kind, text="", start=0, end=0)])
    return out


def _trial(listing: Listing, path: Path) -> Trial:
    regions = [(r.kind, r.start, r.end) for r in listing.regions]
    skip = is_furniture if listing.source_format == "page" else (lambda _: False)
    segments = segment_regions(listing.source, regions, skip)
    warnings = list(listing.warnings)
    if not ner_available():
        warnings.append(errors.warn_no_criteria_ner(DEFAULT_MODEL_DIR, TRAIN_COMMAND))
    if not segments and listing.source.strip():
        warnings.append(errors.warn_no_criteria(path))
    return Trial(
        **listing.metadata,
        source_format=listing.source_format,
        source_path=str(path),
        criteria=extract_segments(listing.source, segments),
        warnings=warnings,
    )
