"""Cutting criteria regions into a tree of criteria with offsets into the source.

Two levels of structure are read:

* lines: bulleted ("•", "*", "-"), numbered ("1.", "2)", "(a)") or bare items;
  a wrapped line continues its item; a more deeply indented bullet, or a bullet
  after an item ending in ":", is a sub-criterion of the item above it;
* inside an item: allowance clauses ("; allowed to take ...", ", but the
  following: 1) ... 2) ...") become exceptions; "; Or" branches become
  OR-alternatives; an "including:" list or other top-level semicolons become
  sub-criteria.

Every offset indexes the source text, so ``source[start:end]`` is always the
criterion's text. Trigger phrases live in ``resources/criteria_lexicon.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Literal

from pipeline.criteria.rules import lexicon
from pipeline.patterns import alternation
from pipeline.schema import CriterionKind

Combine = Literal["any", "all"]
Span = tuple[int, int]

_BULLET = re.compile(
    r"[ \t]*(?:[•·▪◦●○■□‣∙*+\-–—]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])"
    r"[ \t]+(?=\S)"
)
_TRIM = " \t\n;,"
_LEADING_OR = re.compile(r"(?:or|and/or)\b[\s,]*", re.IGNORECASE)
_NUMBERED = re.compile(r"(?<![\w.])\(?(\d{1,2})\)\s*")


@dataclass
class Segment:
    """One criterion's place in the source: its span, parts and sub-criteria.

    ``own`` is the part of the text that speaks for the criterion itself (the
    text before its sub-criteria and exceptions); ``None`` when nothing does.
    """

    id: str
    kind: CriterionKind
    start: int
    end: int
    own: Span | None
    combine: Combine = "all"
    children: list[Segment] = field(default_factory=list)
    exceptions: list[Span] = field(default_factory=list)


@dataclass
class _Item:
    start: int
    end: int
    indent: int
    bulleted: bool
    children: list[_Item] = field(default_factory=list)
    head_end: int = 0  # end of the item's own lines, before its sub-items


def segment_regions(
    source: str,
    regions: list[tuple[CriterionKind, int, int]],
    skip_line: Callable[[str], bool] = lambda _: False,
) -> list[Segment]:
    """Every criterion of every region, numbered ``inc-1``/``exc-1`` per kind."""
    counters = {"inclusion": 0, "exclusion": 0}
    out: list[Segment] = []
    for kind, start, end in regions:
        for item in _line_items(source, start, end, skip_line):
            counters[kind] += 1
            prefix = "inc" if kind == "inclusion" else "exc"
            out.append(_build(source, item, kind, f"{prefix}-{counters[kind]}"))
    return out


def segment_text(source: str, kind: CriterionKind, criterion_id: str) -> Segment | None:
    """The whole of ``source`` read as one criterion (None when it is blank)."""
    start, end = trim(source, 0, len(source))
    if start >= end:
        return None
    return _build(source, _Item(start, end, 0, False), kind, criterion_id)


def trim(source: str, start: int, end: int, chars: str = _TRIM) -> Span:
    """``[start, end)`` without surrounding whitespace and trailing separators."""
    while start < end and source[start] in " \t\n":
        start += 1
    while end > start and source[end - 1] in chars:
        end -= 1
    return start, end


def _line_items(
    source: str, start: int, end: int, skip_line: Callable[[str], bool]
) -> list[_Item]:
    lines: list[tuple[int, int]] = []
    pos = start
    for line in source[start:end].split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    has_bullets = any(_BULLET.match(source, a, b) for a, b in lines)
    tops: list[_Item] = []
    last: _Item | None = None
    after_blank = True
    for a, b in lines:
        line = source[a:b]
        if not line.strip():
            after_blank = True
            continue
        if skip_line(line):
            continue
        bullet = _BULLET.match(source, a, b)
        content = bullet.end() if bullet else a + len(line) - len(line.lstrip())
        indent = content - a if bullet is None else len(line) - len(line.lstrip())
        c_start, c_end = trim(source, content, b, " \t")
        if bullet is None and last is not None and has_bullets and not after_blank:
            last.end = c_end
            after_blank = False
            continue
        item = _Item(c_start, c_end, indent, bullet is not None)
        parent = tops[-1] if tops else None
        if (
            bullet is not None
            and parent is not None
            and _opens_list(source, parent, item)
        ):
            if not parent.children:
                parent.head_end = parent.end
            parent.children.append(item)
        else:
            tops.append(item)
        last = item
        after_blank = False
    for item in tops:
        for child in item.children:
            child.start, child.end = trim(source, child.start, child.end)
        # A parent's text runs through its sub-items, as inline sub-criteria do.
        if item.children:
            item.end = max(item.end, item.children[-1].end)
        item.start, item.end = trim(source, item.start, item.end)
    return [i for i in tops if i.start < i.end]


def _opens_list(source: str, parent: _Item, item: _Item) -> bool:
    if parent.bulleted:
        return item.indent > parent.indent
    return source[parent.start : parent.end].rstrip().endswith(":")


def _build(source: str, item: _Item, kind: CriterionKind, cid: str) -> Segment:
    seg = Segment(cid, kind, item.start, item.end, own=(item.start, item.end))
    if item.children:
        head_end = item.head_end
        seg.own = _nonempty(trim(source, item.start, head_end, _TRIM + ":"))
        seg.combine = _combine(source[item.start : head_end], kind)
        for k, child in enumerate(item.children, start=1):
            if child.start < child.end:
                seg.children.append(_build(source, child, kind, f"{cid}.{k}"))
        return seg
    _split_inline(source, seg)
    return seg


def _nonempty(span: Span) -> Span | None:
    return span if span[0] < span[1] else None


def _combine(header: str, kind: CriterionKind) -> Combine:
    low = header.lower()
    lex = lexicon()
    if any(cue in low for cue in lex.any_cues):
        return "any"
    if any(cue in low for cue in lex.all_cues):
        return "all"
    return "any" if kind == "exclusion" else "all"


def _split_inline(source: str, seg: Segment) -> None:
    start, end = seg.start, seg.end
    exc_at = _exception_start(source, start, end)
    if exc_at is not None:
        seg.exceptions = _exception_spans(source, exc_at, end)
        end = trim(source, start, exc_at)[1]
    seg.own = _nonempty((start, end))
    semis = _top_level(source, start, end, ";")
    if not semis:
        return
    text = source[start:end]
    trigger = _including_pattern().search(text)
    if trigger is not None and _depth_at(source, start, start + trigger.start()) == 0:
        header_end = start + trigger.end()
        _add_children(
            seg,
            source,
            header_end,
            end,
            [p for p in semis if p > header_end],
            header_end=header_end,
        )
        if seg.children:
            seg.combine = _combine(source[start:header_end], seg.kind)
        return
    or_cuts = [
        p for p in semis if _LEADING_OR.match(source, p + 1 + _ws(source, p + 1))
    ]
    if or_cuts:
        _add_children(seg, source, start, end, or_cuts, header_end=start)
        seg.combine = "any"
        return
    _add_children(seg, source, start, end, semis, header_end=start)
    if seg.children:
        seg.combine = "any" if seg.kind == "exclusion" else "all"


def _add_children(
    seg: Segment, source: str, start: int, end: int, cuts: list[int], header_end: int
) -> None:
    parts = [s for s in _cut(source, start, end, cuts) if s]
    if len(parts) < 2:
        return
    seg.own = _nonempty(trim(source, seg.start, header_end, _TRIM + ":"))
    for k, (a, b) in enumerate(parts, start=1):
        seg.children.append(Segment(f"{seg.id}.{k}", seg.kind, a, b, own=(a, b)))


def _cut(source: str, start: int, end: int, cuts: list[int]) -> list[Span | None]:
    bounds = [start, *cuts, end]
    out: list[Span | None] = []
    for a, b in pairwise(bounds):
        a = a + 1 if a != start else a
        a += _ws(source, a)
        lead = _LEADING_OR.match(source, a, b)
        if lead is not None:
            a = lead.end()
        out.append(_nonempty(trim(source, a, b)))
    return out


def _ws(source: str, pos: int) -> int:
    n = 0
    while pos + n < len(source) and source[pos + n] in " \t\n":
        n += 1
    return n


def _depth_at(source: str, start: int, pos: int) -> int:
    depth = 0
    for ch in source[start:pos]:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
    return depth


def _top_level(source: str, start: int, end: int, char: str) -> list[int]:
    text = source[start:end]
    if char not in text:
        return []
    if not any(bracket in text for bracket in "(["):
        return [start + m.start() for m in re.finditer(re.escape(char), text)]
    out = []
    depth = 0
    for pos in range(start, end):
        ch = source[pos]
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        elif ch == char and depth == 0:
            out.append(pos)
    return out


@cache
def _including_pattern() -> re.Pattern[str]:
    return re.compile(alternation(lexicon().including_triggers), re.IGNORECASE)


@cache
def _exception_pattern() -> re.Pattern[str]:
    triggers = alternation(lexicon().exception_triggers)
    return re.compile(rf"[;,:.]\s*(?:and\s+)?(?P<t>{triggers})\b", re.IGNORECASE)


def _exception_start(source: str, start: int, end: int) -> int | None:
    """Where an allowance begins: a clause opening with "allowed to", "but the
    following", ..., or a last clause ending in "is allowed", "are permitted"."""
    for match in _exception_pattern().finditer(source, start, end):
        if _depth_at(source, start, match.start()) == 0:
            return match.start("t")
    cuts = _top_level(source, start, end, ";")
    if cuts:
        tail = source[cuts[-1] + 1 : end].rstrip(" .;\n").lower()
        if tail.endswith(tuple(lexicon().exception_final_markers)):
            return cuts[-1] + 1 + _ws(source, cuts[-1] + 1)
    return None


def _exception_spans(source: str, start: int, end: int) -> list[Span]:
    """One exception, or one per item of a numbered list ("1) ... 2) ...")."""
    markers = []
    expected = 1
    for match in _NUMBERED.finditer(source, start, end):
        if int(match.group(1)) == expected:
            markers.append(match)
            expected += 1
    if len(markers) < 2:
        return [trim(source, start, end, _TRIM + ".")]
    spans = []
    for i, marker in enumerate(markers):
        stop = markers[i + 1].start() if i + 1 < len(markers) else end
        span = trim(source, marker.end(), stop, _TRIM + ".")
        if span[0] < span[1]:
            spans.append(span)
    return spans
