"""Reading a trial listing in any of its three forms, detected from the content.

1. ``page``: a ClinicalTrials.gov-style web page copied as text (the seed is a
   ClinicalTrials.Veeva page). Page furniture ("Menu", "Loading...", logo lines,
   footers) is ignored; the metadata comes from labelled blocks (a label line,
   a blank line, the value lines).
2. ``ctgov_json``: a ClinicalTrials.gov API v2 study record; the criteria text
   is ``protocolSection.eligibilityModule.eligibilityCriteria``.
3. ``text``: plain text with inclusion/exclusion headings and items.

The result is a :class:`Listing`: the source text every offset indexes (the
file text, or the eligibility string of a JSON record), the metadata, and the
regions of the source that hold inclusion or exclusion criteria.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pipeline import errors
from pipeline.criteria.rules import listing_rules
from pipeline.patterns import alternation
from pipeline.schema import CriterionKind
from pipeline.textio import read_user_text

LISTING_LIMIT_BYTES = 5 * 1024 * 1024
NCT_ID = re.compile(r"\bNCT\d{8}\b")
_AGE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(years?|months?|weeks?|days?)", flags=re.IGNORECASE
)
_DAYS_PER = {"year": 365.25, "month": 30.44, "week": 7.0, "day": 1.0}

SourceFormat = Literal["page", "ctgov_json", "text"]


@dataclass(frozen=True)
class Region:
    """A stretch ``[start, end)`` of the source holding criteria of one kind."""

    kind: CriterionKind
    start: int
    end: int


@dataclass
class Listing:
    """A listing read from disk: source text, format, metadata, criteria regions."""

    source: str
    source_format: SourceFormat
    metadata: dict[str, Any] = field(default_factory=dict)
    regions: list[Region] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_listing(path: Path) -> Listing:
    """Read ``path`` (at most 5 MB) and detect its form.

    Raises :class:`~pipeline.errors.TrialmatchError` for a missing, empty,
    oversized or non-UTF-8 file and for JSON that is not a study record.
    """
    text = read_user_text(path, LISTING_LIMIT_BYTES)
    return listing_from_text(text, path)


def listing_from_text(text: str, path: Path) -> Listing:
    """The :class:`Listing` of already-read ``text`` (``path`` names it in messages)."""
    head = text.lstrip()[:1]
    if head == "{" or (head == "[" and _is_json(text)):
        return _from_json(text, path)
    lines = text.split("\n")
    source_format: SourceFormat = "page" if _looks_like_page(lines) else "text"
    listing = Listing(source=text, source_format=source_format)
    if source_format == "page":
        listing.metadata = _page_metadata(lines)
    else:
        listing.metadata = _text_metadata(text)
    _find_regions(listing, path, stop_at_page_labels=source_format == "page")
    return listing


def is_furniture(line: str) -> bool:
    """True for page furniture: navigation, logos, loading markers, footers."""
    rules = listing_rules()
    key = line.strip().lower()
    return (
        key in rules.furniture_lines
        or any(key.startswith(p) for p in rules.furniture_prefixes)
        or any(key.endswith(s) for s in rules.furniture_suffixes)
    )


def heading_kind(line: str) -> CriterionKind | None:
    """The kind of criteria a heading line introduces, or None if it is no heading."""
    rules = listing_rules()
    key = " ".join(re.sub(r"[^a-z ]", " ", line.lower()).split())
    if key in rules.inclusion_headings:
        return "inclusion"
    if key in rules.exclusion_headings:
        return "exclusion"
    return None


@cache
def _inline_heading_pattern() -> re.Pattern[str]:
    rules = listing_rules()
    phrases = alternation([*rules.inclusion_headings, *rules.exclusion_headings])
    return re.compile(rf"\W*(?P<h>{phrases})\W*:", re.IGNORECASE)


def _inline_heading(line: str) -> tuple[CriterionKind, int] | None:
    """ "Inclusion Criteria: Age >= 18" -> the kind and where the items start."""
    found = _inline_heading_pattern().match(line)
    if found is None:
        return None
    kind = heading_kind(found.group("h"))
    return (kind, found.end()) if kind is not None else None


def _label(line: str) -> str:
    return " ".join(line.strip().lower().rstrip(":").split())


def _looks_like_page(lines: list[str]) -> bool:
    rules = listing_rules()
    hits = sum(
        1
        for line in lines
        if line.strip() and (is_furniture(line) or _label(line) in rules.page_labels)
    )
    return hits >= 3


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _page_metadata(lines: list[str]) -> dict[str, Any]:
    rules = listing_rules()
    meta: dict[str, Any] = {}
    blocks = [b for b in _blocks(lines) if not all(is_furniture(x) for x in b)]
    for i, block in enumerate(blocks):
        label = _label(block[0]) if len(block) == 1 else ""
        if "title" not in meta and label not in rules.page_labels and i < 3:
            meta["title"] = block[0]
        field_name = rules.page_labels.get(label)
        if field_name is None or i + 1 >= len(blocks):
            continue
        values = blocks[i + 1]
        if field_name == "status_phase":
            for value in values:
                if re.match(r"(early\s+)?phase\b|n/a$", value, re.IGNORECASE):
                    meta["phase"] = value
                else:
                    meta["status"] = value
        elif field_name in ("conditions", "arms"):
            meta[field_name] = values
        elif field_name == "identifiers":
            ids = [m.group(0) for v in values for m in NCT_ID.finditer(v)]
            if ids:
                meta["trial_id"] = ids[0]
        elif field_name == "sex":
            meta["sex"] = _sex(values[0])
        elif field_name == "ages":
            meta.update(_age_range(values[0]))
    if "trial_id" not in meta:
        found = NCT_ID.search("\n".join(lines))
        if found:
            meta["trial_id"] = found.group(0)
    return meta


def _text_metadata(text: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    found = NCT_ID.search(text)
    if found:
        meta["trial_id"] = found.group(0)
    # A title is the first line above the first heading; a headingless text
    # starts with a criterion, not a title.
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    first_heading = next(
        (i for i, line in enumerate(lines) if heading_kind(line) is not None), 0
    )
    if first_heading > 0 and len(lines[0]) <= 300:
        meta["title"] = lines[0]
    return meta


def _sex(value: str) -> str:
    key = value.strip().lower()
    if key in ("female", "females", "women"):
        return "female"
    if key in ("male", "males", "men"):
        return "male"
    return "all"


def _years(number: str, unit: str) -> float:
    days = float(number) * _DAYS_PER[unit.lower().rstrip("s")]
    return round(days / 365.25, 2)


def _age_range(value: str) -> dict[str, float]:
    """``"18 to 75 years old"`` -> min 18, max 75; ``"18+ years"`` -> min 18."""
    numbers = re.findall(r"\d+(?:\.\d+)?", value)
    unit_match = _AGE.search(value)
    unit = unit_match.group(2) if unit_match else "years"
    out: dict[str, float] = {}
    if len(numbers) >= 2:
        out["min_age_years"] = _years(numbers[0], unit)
        out["max_age_years"] = _years(numbers[1], unit)
    elif len(numbers) == 1:
        key = "max_age_years" if re.search(r"up to|under|<", value) else "min_age_years"
        out[key] = _years(numbers[0], unit)
    return out


def _find_regions(listing: Listing, path: Path, *, stop_at_page_labels: bool) -> None:
    rules = listing_rules()
    text = listing.source
    headings: list[tuple[int, int, CriterionKind | None]] = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        kind = heading_kind(line)
        inline = _inline_heading(line) if kind is None else None
        if kind is not None:
            headings.append((pos, end, kind))
        elif inline is not None:
            headings.append((pos, pos + inline[1], inline[0]))
        elif stop_at_page_labels and _label(line) in rules.page_end_labels:
            headings.append((pos, end, None))
        pos = end + 1
    regions = [
        Region(kind, h_end, headings[i + 1][0] if i + 1 < len(headings) else len(text))
        for i, (_, h_end, kind) in enumerate(headings)
        if kind is not None
    ]
    if not regions:
        listing.warnings.append(errors.warn_no_criteria_headings(path))
        start = _first_criteria_line(text) if stop_at_page_labels else 0
        regions = [Region("inclusion", start, len(text))]
    listing.regions = regions


def _first_criteria_line(text: str) -> int:
    """Where a headingless page's body starts: after its last labelled block."""
    rules = listing_rules()
    pos = 0
    start = 0
    for line in text.split("\n"):
        if _label(line) in rules.page_labels:
            start = pos
        pos += len(line) + 1
    return start


# --- ClinicalTrials.gov API v2 JSON ---------------------------------------------


def _from_json(text: str, path: Path) -> Listing:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.bad_json(path, f"line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(record, dict) or not isinstance(
        record.get("protocolSection"), dict
    ):
        raise errors.not_ctgov_record(path)
    proto = record["protocolSection"]
    ident = _module(proto, "identificationModule")
    eligibility = _module(proto, "eligibilityModule")
    meta: dict[str, Any] = {
        "trial_id": _str(ident.get("nctId")),
        "title": _str(ident.get("briefTitle") or ident.get("officialTitle")),
        "conditions": _strings(_module(proto, "conditionsModule").get("conditions")),
        "status": _status(_module(proto, "statusModule").get("overallStatus")),
        "phase": _phase(_module(proto, "designModule").get("phases")),
        "arms": _arms(_module(proto, "armsInterventionsModule")),
        "sex": _sex(_str(eligibility.get("sex")) or "all"),
    }
    for key, field_name in (
        ("minimumAge", "min_age_years"),
        ("maximumAge", "max_age_years"),
    ):
        found = _AGE.search(_str(eligibility.get(key)) or "")
        if found:
            meta[field_name] = _years(found.group(1), found.group(2))
    criteria_text = _str(eligibility.get("eligibilityCriteria")) or ""
    listing = Listing(
        source=criteria_text,
        source_format="ctgov_json",
        metadata={k: v for k, v in meta.items() if v not in (None, [])},
    )
    if not criteria_text.strip():
        listing.warnings.append(errors.warn_no_eligibility_module(path))
        return listing
    _find_regions(listing, path, stop_at_page_labels=False)
    return listing


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _module(proto: dict[str, Any], name: str) -> dict[str, Any]:
    value = proto.get(name)
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _status(value: object) -> str | None:
    text = _str(value)
    return text.replace("_", " ").capitalize() if text else None


def _phase(value: object) -> str | None:
    phases = _strings(value)
    names = [re.sub(r"^(EARLY_)?PHASE(\d)$", _phase_name, p) for p in phases]
    return "/".join(names) if names else None


def _phase_name(match: re.Match[str]) -> str:
    return ("Early Phase " if match.group(1) else "Phase ") + match.group(2)


def _arms(module: dict[str, Any]) -> list[str]:
    groups = module.get("armGroups")
    labels = [
        g["label"] for g in groups or [] if isinstance(g, dict) and _str(g.get("label"))
    ]
    if labels:
        return labels
    interventions = module.get("interventions")
    return [
        f"{i.get('type', '').title()}: {i['name']}".lstrip(": ")
        for i in interventions or []
        if isinstance(i, dict) and _str(i.get("name"))
    ]
