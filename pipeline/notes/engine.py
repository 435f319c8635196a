"""The notes NLP pipeline: one spaCy ``Language`` built from our components.

``trialmatch_sentences -> trialmatch_sections -> trialmatch_concepts ->
trialmatch_measurements -> trialmatch_context`` on :class:`NoteTokenizer`. The
returned Doc keeps the note text exactly (``doc.text``); every mention is in
``doc.spans["mentions"]`` with ``span.label_`` = vocabulary concept id,
``span._.section`` and ``span._.modifiers`` (a subset of negated, historical,
hypothetical, family, uncertain).
"""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language

# Imported for their side effect of registering the component factories.
from pipeline.notes import (  # noqa: F401
    concepts,
    context,
    measurements,
    sections,
    sentences,
)
from pipeline.notes.tokenizer import NoteTokenizer

MAX_NOTE_CHARS = 20_000_000
COMPONENTS = (
    "trialmatch_sentences",
    "trialmatch_sections",
    "trialmatch_concepts",
    "trialmatch_measurements",
    "trialmatch_context",
)


def _blank() -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = NoteTokenizer(nlp.vocab)
    # spaCy's 1M-character cap guards parser/NER memory; these components are
    # linear in the text, and the notes reader sets its own size limit.
    nlp.max_length = MAX_NOTE_CHARS
    return nlp


@cache
def build_notes_nlp() -> Language:
    """The full notes pipeline (cached: built once per process)."""
    nlp = _blank()
    for name in COMPONENTS:
        nlp.add_pipe(name)
    return nlp


@cache
def build_context_nlp() -> Language:
    """Sentences and sections only: what assertion needs around given targets
    (``trialmatch eval context`` supplies the targets itself)."""
    nlp = _blank()
    for name in COMPONENTS[:2]:
        nlp.add_pipe(name)
    return nlp
