"""Character noise of copied listings, normalised without losing source offsets.

Web pages copied as text turn "1.5 × 10⁹/L" into "1.5×109/L", use full-width
or typographic variants of ``≥``/``-`` and Roman-numeral code points ("Ⅳ").
:func:`normalise` rewrites them for extraction and returns, for every
character of the normalised text, the index of the source character it came
from, so every offset found in the normalised text maps back to the source.
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.criteria.rules import lexicon

# "×109/L", "x1012/L", "10*9/L": a power of ten whose caret was lost. Only the
# exponents of cell counts are rewritten (3, 6, 9, 12), and only before "/".
_LOST_CARET = re.compile(r"(?<=[×xX*\s])10(?:\*|\^)?(12|9|6|3)(?=\s?/)")


@cache
def _table() -> tuple[dict[str, str], re.Pattern[str]]:
    table = lexicon().characters
    return table, re.compile("|".join(re.escape(ch) for ch in table))


def normalise(text: str) -> tuple[str, list[int]]:
    """The normalised ``text`` and the source index of each of its characters.

    The index list has one extra entry, ``len(text)``, so that an end offset
    ``e`` maps to ``index[e - 1] + 1`` and an empty span maps consistently.
    """
    table, noisy = _table()
    chars: list[str] = []
    index: list[int] = []
    pos = 0
    for match in noisy.finditer(text):
        chars.append(text[pos : match.start()])
        index.extend(range(pos, match.start()))
        out = table[match.group()]
        chars.append(out)
        index.extend([match.start()] * len(out))
        pos = match.end()
    chars.append(text[pos:])
    index.extend(range(pos, len(text)))
    first = "".join(chars)
    if not _LOST_CARET.search(first):
        return first, [*index, len(text)]
    pieces: list[str] = []
    final: list[int] = []
    pos = 0
    for match in _LOST_CARET.finditer(first):
        pieces.append(first[pos : match.start()])
        final.extend(index[pos : match.start()])
        exponent_at = match.start(1)
        pieces.append("10^" + match.group(1))
        final.extend(
            [index[match.start()], index[match.start() + 1], index[exponent_at]]
        )
        final.extend(index[exponent_at : match.end()])
        pos = match.end()
    pieces.append(first[pos:])
    final.extend(index[pos:])
    return "".join(pieces), [*final, len(text)]


def to_source(index: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a normalised span ``[start, end)`` to the source span it came from."""
    if end <= start:
        return index[start], index[start]
    return index[start], index[end - 1] + 1
