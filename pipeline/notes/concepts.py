"""Concept mentions from the shared vocabulary (the ``trialmatch_concepts`` component).

Every surface term of :func:`pipeline.vocabulary.load_vocabulary` is matched with
spaCy's PhraseMatcher, case-insensitively (attribute ``LOWER``), except short
upper-case abbreviations that collide with ordinary words in lower case ("PE",
"NET", "MI", "TB", "CIS", "DM"), which are matched on ``ORTH``. Which terms are
case-sensitive is data (``resources/notes_concepts.json``). Overlapping matches
resolve to the longest ("non-small cell lung cancer" over "lung cancer"); a
span two concepts share keeps both labels. Results go to
``doc.spans["mentions"]`` with ``span.label_`` = concept id.

(No ``from __future__ import annotations``: spaCy reads the factory signature.)
"""

from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from pipeline.resources import load_json
from pipeline.vocabulary import Vocabulary, load_vocabulary

MENTIONS = "mentions"


class CasePolicy(BaseModel):
    """Which vocabulary terms are matched case-sensitively, and which not at all.

    ``pseudo_terms`` are phrases that hold a term without naming its concept
    ("back bleeding", "bleeding vessels" in an operative note): matched, as
    ConText's pseudo-triggers are, so that the shorter term inside them is not.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_sensitive_max_length: int
    case_sensitive_terms: list[str]
    case_insensitive_terms: list[str]
    excluded_terms: list[str]
    pseudo_terms: list[str]

    def is_case_sensitive(self, term: str) -> bool:
        """Listed as case-sensitive, or a short all-capitals term not listed
        as case-insensitive."""
        if term in self.case_sensitive_terms:
            return True
        if term in self.case_insensitive_terms:
            return False
        return (
            len(term) <= self.case_sensitive_max_length
            and any(c.isalpha() for c in term)
            and not any(c.islower() for c in term)
        )


@cache
def load_case_policy() -> CasePolicy:
    """The packaged case policy."""
    return load_json("notes_concepts.json", CasePolicy)


PSEUDO = "_pseudo"  # the match label of a pseudo-term; never a concept id


@dataclass
class ConceptMatchers:
    """The two phrase matchers: case-insensitive and case-sensitive terms."""

    lower: PhraseMatcher
    exact: PhraseMatcher
    pseudo: int  # the match id of pseudo-terms


def build_concept_matchers(
    nlp: Language, vocabulary: Vocabulary, policy: CasePolicy
) -> ConceptMatchers:
    """Phrase patterns for every vocabulary term, tokenised by ``nlp``."""
    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    exact = PhraseMatcher(nlp.vocab, attr="ORTH")
    excluded = {t.lower() for t in policy.excluded_terms}
    by_concept: dict[tuple[str, bool], list[str]] = {}
    for term, concept in vocabulary.terms():
        if term.lower() in excluded:
            continue
        sensitive = policy.is_case_sensitive(term)
        by_concept.setdefault((concept.id, sensitive), []).append(term)
    for (cid, sensitive), terms in by_concept.items():
        matcher = exact if sensitive else lower
        matcher.add(cid, [nlp.make_doc(t) for t in dict.fromkeys(terms)])
    lower.add(PSEUDO, [nlp.make_doc(t) for t in policy.pseudo_terms])
    return ConceptMatchers(lower, exact, nlp.vocab.strings.add(PSEUDO))


def find_mentions(doc: Doc, matchers: ConceptMatchers) -> list[Span]:
    """Concept mentions in ``doc``: longest match wins, equal spans keep all labels.

    A pseudo-term that wins is dropped, and with it the terms it covers.
    """
    labels: dict[tuple[int, int], list[int]] = {}
    for matcher in (matchers.lower, matchers.exact):
        for match_id, start, end in matcher(doc):
            ids = labels.setdefault((start, end), [])
            if match_id not in ids:
                ids.append(match_id)
    kept: list[tuple[int, int]] = []
    taken: set[int] = set()
    for start, end in sorted(labels, key=lambda se: (se[0] - se[1], se[0])):
        if not taken.intersection(range(start, end)):
            kept.append((start, end))
            taken.update(range(start, end))
    return [
        Span(doc, start, end, label=label)
        for start, end in sorted(kept)
        for label in labels[(start, end)]
        if label != matchers.pseudo
    ]


class ConceptTagger:
    """spaCy component: fills ``doc.spans["mentions"]`` from the vocabulary."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.matchers = build_concept_matchers(
            nlp, load_vocabulary(), load_case_policy()
        )

    def __call__(self, doc: Doc) -> Doc:
        doc.spans[MENTIONS] = find_mentions(doc, self.matchers)
        return doc


@Language.factory("trialmatch_concepts")
def make_concept_tagger(nlp: Language, name: str) -> ConceptTagger:
    """Factory of the ``trialmatch_concepts`` component."""
    return ConceptTagger(nlp, name)
