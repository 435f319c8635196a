"""Regex building blocks shared by the criteria and notes stages.

Trigger words live as data in ``pipeline/resources``; these helpers turn such
word lists into regexes, so both stages read numbers and phrases the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: A decimal number as clinical text writes it: ``1,500``, ``9.1``, ``.5``.
NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"


def alternation(phrases: Iterable[str]) -> str:
    """A regex matching any of the literal ``phrases``, longest first.

    Built as a prefix trie ("at least|at most" -> "at\\s+(?:least|most)") so
    the regex engine does not retry every phrase at every position; a space in
    a phrase matches any run of whitespace.
    """
    trie: dict[str, dict] = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _emit(trie)


def _emit(node: dict[str, dict]) -> str:
    branches = [
        (r"\s+" if ch == " " else re.escape(ch)) + _emit(child)
        for ch, child in sorted(node.items())
        if ch
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body
