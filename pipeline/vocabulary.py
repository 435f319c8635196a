"""The one concept vocabulary shared by the criteria, notes and matching stages.

``resources/concepts.jsonl`` holds one concept per line: a stable ``id``, its
OMOP domain, the surface terms that name it, the classes it belongs to
(``apixaban`` -> ``anticoagulant``) and public codes (ICD-10-CM for conditions,
LOINC for labs). A criterion that names a class ("anticoagulant therapies")
and a note that names a member ("apixaban") meet through :meth:`Vocabulary.is_a`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from pydantic import BaseModel, ConfigDict

from pipeline import errors
from pipeline.resources import load_jsonl
from pipeline.schema import Domain


class Concept(BaseModel):
    """One vocabulary entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    domain: Domain
    terms: list[str] = []
    parents: list[str] = []
    codes: dict[str, str] = {}
    unit: str | None = None


class Vocabulary:
    """Concepts by id, with the class hierarchy closed transitively."""

    def __init__(self, concepts: list[Concept]) -> None:
        self.concepts: dict[str, Concept] = {}
        for concept in concepts:
            if concept.id in self.concepts:
                raise errors.bad_resource(
                    "concepts.jsonl", f"duplicate id {concept.id!r}"
                )
            self.concepts[concept.id] = concept
        for concept in concepts:
            for parent in concept.parents:
                if parent not in self.concepts:
                    raise errors.bad_resource(
                        "concepts.jsonl",
                        f"{concept.id!r} has unknown parent {parent!r}",
                    )
        self._ancestors = {cid: self._closure(cid) for cid in self.concepts}

    def _closure(self, cid: str) -> frozenset[str]:
        seen: set[str] = set()
        stack = list(self.concepts[cid].parents)
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(self.concepts[parent].parents)
        return frozenset(seen)

    def __getitem__(self, cid: str) -> Concept:
        return self.concepts[cid]

    def __contains__(self, cid: object) -> bool:
        return cid in self.concepts

    def ancestors(self, cid: str) -> frozenset[str]:
        """Every class ``cid`` belongs to, directly or through other classes."""
        return self._ancestors.get(cid, frozenset())

    def is_a(self, cid: str, other: str) -> bool:
        """True when ``cid`` is ``other`` or one of its members."""
        return cid == other or other in self.ancestors(cid)

    def terms(self) -> Iterator[tuple[str, Concept]]:
        """Every (surface term, concept) pair, the concept's name included."""
        for concept in self.concepts.values():
            yield concept.name, concept
            for term in concept.terms:
                yield term, concept


@cache
def load_vocabulary() -> Vocabulary:
    """The packaged vocabulary (cached: it is read once per process)."""
    return Vocabulary(load_jsonl("concepts.jsonl", Concept))
