"""Notes stage: clinical notes in OMOP NOTE shape become asserted, dated facts.

``read_notes`` reads and validates the input (every row processed or rejected
with a reason), ``extract_facts`` turns a frame of notes into NOTE_NLP-shaped
rows (the fields of :class:`~pipeline.schema.NoteFact`), ``facts_from_text``
does the same for one piece of text, and ``read_facts`` reads back the facts
that ``trialmatch notes`` wrote.
"""

from pipeline.notes.facts import FactsInput, extract_facts, facts_from_text, read_facts
from pipeline.notes.io import NotesInput, read_notes, read_persons

__all__ = [
    "FactsInput",
    "NotesInput",
    "extract_facts",
    "facts_from_text",
    "read_facts",
    "read_notes",
    "read_persons",
]
