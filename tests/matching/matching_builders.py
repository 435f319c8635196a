"""Hand-built criteria and note facts for the matching tests (no other stage needed)."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd

from pipeline.matching.assess import Patient, assess, compile_criterion
from pipeline.matching.facts import PersonFacts, index_facts
from pipeline.schema import (
    Criterion,
    CriterionAssessment,
    CriterionException,
    Entity,
    NoteFact,
    TimeWindow,
    ValueConstraint,
)
from pipeline.vocabulary import load_vocabulary

AS_OF = dt.date(2026, 11, 1)
_ids = itertools.count(1)


def ent(concept_id: str, text: str | None = None) -> Entity:
    vocab = load_vocabulary()
    return Entity(
        text=text or vocab[concept_id].name,
        domain=vocab[concept_id].domain,
        start=0,
        end=1,
        concept_id=concept_id,
    )


def limit(
    measure: str,
    comparator: str,
    value: float,
    unit: str | None = None,
    high: float | None = None,
    sex: str | None = None,
) -> ValueConstraint:
    return ValueConstraint(
        measure=measure,
        measure_text=load_vocabulary()[measure].name,
        comparator=comparator,
        value=value,
        value_high=high,
        unit=unit,
        sex=sex,
        start=0,
        end=1,
    )


def window(days: float, text: str) -> TimeWindow:
    return TimeWindow(days=days, text=text, start=0, end=1)


def crit(cid: str, kind: str = "exclusion", **kw: object) -> Criterion:
    return Criterion(id=cid, kind=kind, text=kw.pop("text", cid), start=0, end=1, **kw)


def allowance(text: str, concept: str, *limits: ValueConstraint) -> CriterionException:
    return CriterionException(
        text=text, start=0, end=1, entities=[ent(concept)], values=list(limits)
    )


def fact(
    concept_id: str,
    note_date: dt.date = dt.date(2026, 10, 1),
    *,
    person_id: str = "p1",
    value: float | None = None,
    unit: str | None = None,
    text: str | None = None,
    event_date: dt.date | None = None,
    value_string: str | None = None,
    note_id: str | None = None,
    **modifiers: bool,
) -> NoteFact:
    vocab = load_vocabulary()
    word = text or vocab[concept_id].name
    return NoteFact(
        note_nlp_id=next(_ids),
        note_id=note_id or f"{person_id}-{note_date.isoformat()}",
        person_id=person_id,
        note_date=note_date,
        section="assessment",
        snippet=word,
        offset=0,
        offset_end=len(word),
        lexical_variant=word,
        concept_id=concept_id,
        domain=vocab[concept_id].domain,
        nlp_system="test",
        nlp_date=AS_OF,
        term_exists=not any(
            modifiers.get(m) for m in ("negated", "hypothetical", "family", "uncertain")
        ),
        value_as_number=value,
        value_as_string=value_string,
        unit=unit,
        event_date=event_date,
        **modifiers,
    )


def frame(*facts: NoteFact) -> pd.DataFrame:
    return pd.DataFrame(
        [f.model_dump() for f in facts], columns=list(NoteFact.model_fields)
    )


def run(
    criterion: Criterion,
    *facts: NoteFact,
    sex: str | None = "male",
    age: float | None = 60,
) -> list[CriterionAssessment]:
    """``criterion`` (and its sub-criteria) assessed for person p1 with ``facts``."""
    df = frame(*facts) if facts else frame(fact("hemoglobin", person_id="other"))
    pf = index_facts(df, AS_OF).get("p1")
    if pf is None:
        pf = PersonFacts("p1", n_notes=1)
    return assess([compile_criterion(criterion)], pf, Patient("p1", sex, age, AS_OF))
