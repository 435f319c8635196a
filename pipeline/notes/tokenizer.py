"""A fast tokenizer for clinical notes whose tokens never straddle punctuation.

spaCy's English tokenizer keeps MTSamples' ".,MEDICATIONS:" or "PLAN:,1." as a
single token, so sentence and section boundaries and term matches inside it are
lost. Notes are tokenised instead by one regular expression: decimal numbers
("9.1"), runs of letters and digits ("HER2", "10mg") and every other
non-space character on its own. Whitespace follows spaCy's convention (one
trailing space on the token, any other whitespace as a token of its own), so
``doc.text`` is the note text exactly. It runs about four times faster than
spaCy's rule-based tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.tokens import Doc
from spacy.vocab import Vocab

# ``Doc.text`` joins every token on each access; components read the note text
# many times, so the tokenizer keeps it.
if not Doc.has_extension("note_text"):
    Doc.set_extension("note_text", default=None)

_TOKEN = re.compile(r"(\d+\.\d+|[^\W_]+|\S)(\s*)")


def split_words(text: str) -> tuple[list[str], list[bool]]:
    """The ``words`` and ``spaces`` of :class:`spacy.tokens.Doc` for ``text``."""
    words: list[str] = []
    spaces: list[bool] = []
    stripped = len(text) - len(text.lstrip())
    if stripped:
        words.append(text[:stripped])
        spaces.append(False)
    for match in _TOKEN.finditer(text, stripped):
        word, gap = match.groups()
        words.append(word)
        if gap == " ":
            spaces.append(True)
        elif not gap:
            spaces.append(False)
        elif gap[0] == " ":
            spaces.append(True)
            words.append(gap[1:])
            spaces.append(False)
        else:
            spaces.append(False)
            words.append(gap)
            spaces.append(False)
    return words, spaces


def note_text(doc: Doc) -> str:
    """``doc.text``, computed at most once per Doc."""
    text = doc._.note_text
    if text is None:
        text = doc.text
        doc._.note_text = text
    return text


class NoteTokenizer:
    """Callable ``text -> Doc`` used as ``nlp.tokenizer`` by the notes pipeline."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words, spaces = split_words(text)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc._.note_text = text
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """Tokenise ``texts`` one by one (``batch_size`` is accepted for spaCy)."""
        for text in texts:
            yield self(text)
