"""Fast sentence splitting for clinical notes (the ``trialmatch_sentences`` component).

Clinical notes are not prose: sentences end at line breaks, at section headers
("PAST MEDICAL HISTORY:," in MTSamples transcriptions), before list items and at
periods that are not part of an abbreviation ("Dr.", "q.d.", "p.o."). PyRuSH,
medspaCy's rule-based splitter, handles these but runs at a few thousand
characters per second; these rules work on the raw text with a handful of
compiled regular expressions and map the boundaries onto tokens in one array
operation. The abbreviation list and list markers are data
(``resources/notes_sentences.json``).

(No ``from __future__ import annotations``: spaCy reads the factory signature.)
"""

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
from pydantic import BaseModel, ConfigDict
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.notes.tokenizer import note_text
from pipeline.resources import load_json


class SentenceRules(BaseModel):
    """The data behind the splitter: abbreviations that never end a sentence,
    list markers, and the answers that keep a form's question and its answer in
    one sentence ("Pregnant? No.")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    abbreviations: list[str]
    list_markers: list[str]
    question_answers: list[str]


@dataclass(frozen=True)
class CompiledSentenceRules:
    """Sentence rules compiled to regular expressions."""

    abbreviations: frozenset[str]
    list_item: re.Pattern[str]
    answer: re.Pattern[str]


# A period/question/exclamation mark (and closing quotes or brackets), then
# whitespace or MTSamples' "," that stands for a line break.
_TERMINAL = re.compile(r"[.?!]+[\"')\]]*(?:,?[ \t\r\n]+|,(?=\S))")
_WORD_BEFORE = re.compile(r"[\w.]+$")
_ENUMERATOR = re.compile(r"(?:^|[\n,])[ \t]*\d{1,2}$")
# An upper-case header ("PAST MEDICAL HISTORY:", "A/P:"); where it may stand
# is checked by :func:`_opens_line` (a left context in the pattern would be
# tried at every character and slow the scan down).
_HEADER = re.compile(
    r"(?P<head>[A-Z][A-Z0-9/&()'-]+(?: [A-Z0-9/&()'-]+){0,8})[ \t]*:"
    r"(?P<gap>[ \t]*,?[ \t]*)"
)
# "1) ... 2) ..." enumerated inline (flattened lists), if :func:`_opens_line`.
_INLINE_ITEM = re.compile(r"\d{1,2}[.)][ \t]")
_NEWLINE = re.compile(r"\n[ \t\r]*")
_OPENERS = "\"'([{"


@cache
def load_sentence_rules() -> CompiledSentenceRules:
    """The packaged sentence rules, compiled once per process."""
    rules = load_json("notes_sentences.json", SentenceRules)
    markers = "|".join(re.escape(m) for m in rules.list_markers)
    return CompiledSentenceRules(
        abbreviations=frozenset(a.lower().rstrip(".") for a in rules.abbreviations),
        list_item=re.compile(rf"(?:{markers})[ \t]|\d{{1,2}}[.)][ \t]"),
        answer=re.compile(
            rf"(?:{'|'.join(map(re.escape, rules.question_answers))})\b", re.I
        ),
    )


def sentence_starts(text: str, rules: CompiledSentenceRules) -> list[int]:
    """Character offsets where sentences start, ascending, the first always 0.

    Boundaries: line breaks (unless a line is merely wrapped: lower-case text
    continued in lower case), upper-case section headers (the header and its
    body become separate sentences), list items, and sentence-final punctuation
    followed by an upper-case letter, digit or opening bracket, unless the word
    before the period is a listed abbreviation or an enumerator ("1."), or the
    question mark is answered ("Pregnant? No.").
    """
    cuts: set[int] = set()
    for match in _NEWLINE.finditer(text):
        end = match.end()
        if end >= len(text):
            break
        before = text[max(0, match.start() - 40) : match.start()].rstrip()
        wrapped = before[-1:].islower() and text[end].islower()
        if not wrapped or "\n" in match.group()[1:]:
            cuts.add(end)
    for match in _TERMINAL.finditer(text):
        end = match.end()
        if end >= len(text):
            break
        nxt = text[end]
        opens = nxt.isupper() or nxt.isdigit() or nxt in _OPENERS
        if not opens and not rules.list_item.match(text, end):
            continue
        if match.group().startswith(".") and _is_abbreviation(
            text, match.start(), rules
        ):
            continue
        if match.group().startswith("?") and rules.answer.match(text, end):
            continue
        cuts.add(end)
    cuts.update(
        match.start()
        for match in _INLINE_ITEM.finditer(text)
        if _opens_line(text, match.start(), header=False)
    )
    for match in _HEADER.finditer(text):
        if not _opens_line(text, match.start(), header=True):
            continue
        cuts.add(match.start())
        if match.end() < len(text) and text[match.end()] not in "\r\n":
            cuts.add(match.end())
    starts = {0}
    for cut in cuts:
        while cut < len(text) and text[cut].isspace():
            cut += 1
        if cut < len(text):
            starts.add(cut)
    return sorted(starts)


def _opens_line(text: str, pos: int, header: bool) -> bool:
    """True when ``pos`` follows a run of two or more spaces (line breaks
    flattened to spaces, as in the NegEx test set) or, for a header, a line
    start, MTSamples' "," or a sentence's final punctuation."""
    before = text[max(0, pos - 80) : pos]
    stripped = before.rstrip(" \t")
    if len(before) - len(stripped) >= 2:
        return True
    if not header:
        return False
    return stripped[-1:] in "\n,.;" if stripped else pos == len(before)


def _is_abbreviation(text: str, period: int, rules: CompiledSentenceRules) -> bool:
    """True when the period at ``period`` closes an abbreviation or enumerator."""
    window = text[max(0, period - 24) : period]
    word = _WORD_BEFORE.search(window)
    if word is None:
        return False
    if word.group().lower().rstrip(".") in rules.abbreviations:
        return True
    return word.group().isdigit() and _ENUMERATOR.search(window) is not None


def set_sentence_starts(doc: Doc, starts: list[int]) -> None:
    """Mark the tokens that begin at (or right after) each start offset."""
    if len(doc) == 0:
        return
    token_starts = doc.to_array(IDX)
    first = np.searchsorted(token_starts, np.asarray(starts, dtype=token_starts.dtype))
    flags = np.full(len(doc), -1, dtype=np.int64)
    flags[first[first < len(doc)]] = 1
    flags[0] = 1
    # spaCy stores attributes as uint64; -1 ("not a start") wraps around.
    doc.from_array([SENT_START], flags.astype(np.uint64).reshape(-1, 1))


class SentenceSplitter:
    """spaCy component: sets ``Token.is_sent_start`` from :func:`sentence_starts`."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.rules = load_sentence_rules()

    def __call__(self, doc: Doc) -> Doc:
        set_sentence_starts(doc, sentence_starts(note_text(doc), self.rules))
        return doc


@Language.factory("trialmatch_sentences")
def make_sentence_splitter(nlp: Language, name: str) -> SentenceSplitter:
    """Factory of the ``trialmatch_sentences`` component."""
    return SentenceSplitter(nlp, name)
