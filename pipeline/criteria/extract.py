"""From segmented criteria to typed records: entities, values, windows, scopes.

The criteria pipeline is the project's Chia-trained NER (``models/criteria_ner``,
:mod:`pipeline.criteria.ner`) followed by scispaCy's AbbreviationDetector and
the rule components of :mod:`pipeline.criteria.components`. It is built once
per process and run over every criterion text with ``nlp.pipe``. Each text is
normalised first (:mod:`pipeline.criteria.normalise`) and every offset found is
mapped back into the source, so ``source[start:end]`` is always the mention.
"""

from __future__ import annotations

import gc
import importlib.util
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline import errors
from pipeline.collector import collector_paused
from pipeline.criteria import components  # noqa: F401  (registers the factories)
from pipeline.criteria.components import (
    ANNOTATIONS_KEY,
    ConceptMention,
    CriteriaAnnotations,
    annotations,
    concept_terms,
)
from pipeline.criteria.ner import (
    DEFAULT_MODEL_DIR,
    customise_tokenizer,
    load_criteria_ner,
)
from pipeline.criteria.normalise import normalise, to_source
from pipeline.criteria.rules import lexicon
from pipeline.criteria.segment import Combine, Segment
from pipeline.schema import (
    Criterion,
    CriterionException,
    Entity,
    TimeWindow,
    ValueConstraint,
)
from pipeline.vocabulary import Concept, load_vocabulary

RULE_PIPES = (
    "trialmatch_criteria_abbreviations",
    "trialmatch_criteria_concepts",
    "trialmatch_criteria_values",
    "trialmatch_criteria_windows",
    "trialmatch_criteria_scope",
)
# Docs per nlp.pipe batch. The tok2vec activations of 256 criteria (about
# 8,000 tokens) stay in the CPU cache where 1,000 criteria's do not: tagging
# 5,000 Chia lines ran about 6 % faster per CPU-second at 256 than at 1,000.
BATCH_SIZE = 256
_PLURAL_ES = re.compile(r"(?<=[a-z])e?s$")
_PLURAL_S = re.compile(r"(?<=[a-z])s$")
# What an "excluding ..." clause can rule out; qualifiers and values inside it
# stay with the criterion.
_EXCLUDABLE = frozenset(
    {"Condition", "Drug", "Procedure", "Measurement", "Observation", "Device"}
)


def ner_available() -> bool:
    """True when the trained criteria NER is on disk."""
    return (DEFAULT_MODEL_DIR / "config.cfg").is_file()


@cache
def criteria_nlp() -> Language:
    """The criteria pipeline: trained NER (when built) + abbreviations + rules."""
    nlp = load_criteria_ner() if ner_available() else spacy.blank("en")
    customise_tokenizer(nlp)
    for name in RULE_PIPES:
        nlp.add_pipe(name)
    # Built with the pipeline (~1.3 s), since nearly every listing reads it, so
    # that the first listing parsed costs what the others cost.
    _icd_index()
    # The pipeline's long-lived objects would otherwise be rescanned by every
    # full garbage collection while criteria are parsed.
    gc.collect()
    gc.freeze()
    return nlp


@dataclass
class _Parts:
    entities: list[Entity] = field(default_factory=list)
    excluding: list[Entity] = field(default_factory=list)
    values: list[ValueConstraint] = field(default_factory=list)
    windows: list[TimeWindow] = field(default_factory=list)
    negated: bool = False
    mood: str | None = None


def extract_segments(source: str, segments: Sequence[Segment]) -> list[Criterion]:
    """The :class:`Criterion` tree of each segment of one source."""
    return extract_many([(source, segments)])[0]


def extract_many(
    batches: Sequence[tuple[str, Sequence[Segment]]],
) -> list[list[Criterion]]:
    """:func:`extract_segments` for many sources, run through one ``nlp.pipe``.

    The cyclic garbage collector is paused while the texts are read and the
    records built: it would otherwise rescan the growing lists of results and
    the Docs in flight over and over (about 8 % of the stage's CPU time on
    5,000 Chia lines) to find little: spaCy's NER leaves one small cycle per
    batch, freed by the first collection after the call (peak memory parsing
    all 9,090 Chia lines in one call: 423-429 MB, against 409-410 MB for the
    earlier code, which paused it for the reading only).
    """
    jobs = [
        (i, span)
        for i, (_, segments) in enumerate(batches)
        for span in sorted({s for seg in segments for s in _spans(seg)})
    ]
    with collector_paused():
        found = _read_all([(batches[i][0], span) for i, span in jobs])
        parts: list[dict[tuple[int, int], _Parts]] = [{} for _ in batches]
        for (i, span), part in zip(jobs, found, strict=True):
            parts[i][span] = part
        return [
            [_criterion(source, seg, parts[i], None) for seg in segments]
            for i, (source, segments) in enumerate(batches)
        ]


def _spans(seg: Segment) -> Iterable[tuple[int, int]]:
    if seg.own is not None:
        yield seg.own
    yield from seg.exceptions
    for child in seg.children:
        yield from _spans(child)


def _read_all(jobs: list[tuple[str, tuple[int, int]]]) -> list[_Parts]:
    nlp = criteria_nlp()
    normalised = [normalise(source[a:b]) for source, (a, b) in jobs]
    docs = nlp.pipe(
        (_make_doc(nlp, text) for text, _ in normalised), batch_size=BATCH_SIZE
    )
    with warnings.catch_warnings():
        # scispaCy's AbbreviationDetector runs an empty matcher on texts
        # without definitions; spaCy's W036 about it says nothing about the
        # input.
        warnings.filterwarnings("ignore", message=r"\[W036\]")
        return [
            _read(doc, index, a, source)
            for doc, (_, index), (source, (a, _)) in zip(
                docs, normalised, jobs, strict=True
            )
        ]


def _make_doc(nlp: Language, text: str) -> Doc:
    # The rule components read the text many times; spaCy rebuilds doc.text
    # from its tokens on every access, so the known text is handed over.
    doc = nlp.make_doc(text)
    doc.user_data[ANNOTATIONS_KEY] = CriteriaAnnotations(text)
    return doc


def _criterion(
    source: str,
    seg: Segment,
    parts: dict[tuple[int, int], _Parts],
    parent_id: str | None,
) -> Criterion:
    own = parts[seg.own] if seg.own is not None else _Parts()
    exceptions = []
    for a, b in seg.exceptions:
        found = parts[(a, b)]
        exceptions.append(
            CriterionException(
                text=source[a:b],
                start=a,
                end=b,
                entities=found.entities + found.excluding,
                values=found.values,
                time_windows=found.windows,
            )
        )
    return Criterion(
        id=seg.id,
        kind=seg.kind,
        text=source[seg.start : seg.end],
        start=seg.start,
        end=seg.end,
        parent_id=parent_id,
        negated=own.negated,
        mood=own.mood,
        entities=own.entities,
        values=own.values,
        time_windows=own.windows,
        excluding=own.excluding,
        exceptions=exceptions,
        combine=seg.combine if seg.children else _inline_combine(source, own),
        sub_criteria=[_criterion(source, c, parts, seg.id) for c in seg.children],
    )


def _inline_combine(source: str, own: _Parts) -> Combine:
    """``any`` when a criterion's coded mentions are alternatives in its text.

    The mentions are its coded entities and its value limits (a limit's own
    measure entity belongs to the limit); they are alternatives when the text
    between each mention and the next opens with an alternative join ("or")
    and holds no conjunction: "History of stroke or myocardial infarction",
    "A respiratory rate of at least 20/min or the use of mechanical
    ventilation", but not "Stroke or MI with LVEF < 40 %".
    """
    measures = {v.measure for v in own.values}
    spans = sorted(
        [(v.start, v.end) for v in own.values]
        + [
            (e.start, e.end)
            for e in own.entities
            if e.concept_id and e.concept_id not in measures
        ]
    )
    if len(spans) < 2:
        return "all"
    lex = lexicon()
    joins, conjunctions = _alternation(
        tuple(lex.alternative_joins), tuple(lex.conjunctions)
    )
    for (_, end), (start, _) in pairwise(spans):
        gap = source[end:start]
        if not joins.match(gap) or conjunctions.search(gap):
            return "all"
    return "any"


@cache
def _alternation(
    joins: tuple[str, ...], conjunctions: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    def words(ws: tuple[str, ...]) -> str:
        return "|".join(re.escape(w) for w in sorted(ws, key=len, reverse=True))

    return (
        re.compile(rf"[\s,]*(?:{words(joins)})\b", re.IGNORECASE),
        re.compile(rf"\b(?:{words(conjunctions)})\b(?!/)|;", re.IGNORECASE),
    )


def _read(doc: Doc, index: list[int], offset: int, source: str) -> _Parts:
    def place(start: int, end: int) -> tuple[int, int]:
        a, b = to_source(index, start, end)
        return offset + a, offset + b

    found = annotations(doc)
    parts = _Parts(negated=found.negated, mood=found.mood)
    measured = {v.measure for v in found.values}
    for start, end, domain, concept in _entity_spans(doc, measured):
        a, b = place(start, end)
        negated = _inside(start, found.negation_scopes)
        entity = Entity(
            text=source[a:b],
            domain=domain,  # type: ignore[arg-type]
            start=a,
            end=b,
            concept_id=concept.id if concept else None,
            codes=_codes(source[a:b], domain, concept),
            negated=negated,
        )
        if domain in _EXCLUDABLE and _inside(start, found.excluding_scopes):
            parts.excluding.append(entity)
        else:
            parts.entities.append(entity)
    for value in found.values:
        a, b = place(value.start, value.end)
        parts.values.append(
            ValueConstraint(
                measure=value.measure,
                measure_text=value.measure_text,
                comparator=value.comparator,
                value=value.value,
                value_high=value.value_high,
                unit=value.unit,
                sex=value.sex,
                start=a,
                end=b,
            )
        )
    for window in found.windows:
        a, b = place(window.start, window.end)
        parts.windows.append(
            TimeWindow(
                days=window.days,
                text=source[a:b],
                anchor=window.anchor,
                minimum=window.minimum,
                start=a,
                end=b,
            )
        )
    return parts


def _inside(pos: int, scopes: list[tuple[int, int]] | None) -> bool:
    # Called for every entity, mostly with no scope at all, where building the
    # generator cost more than the test.
    if not scopes:
        return False
    return any(a <= pos < b for a, b in scopes)


def _entity_spans(
    doc: Doc, measured: set[str]
) -> list[tuple[int, int, str, Concept | None]]:
    """NER entities with the concept they name, then rule concepts the NER missed.

    Each as (start_char, end_char, domain, concept), in text order.

    A vocabulary mention stays a concept whatever the NER made of its words:
    one that no entity carries and that is not inside an entity (which speaks
    for it) is kept as an entity of its own, also where it overlaps entities
    of another type ("Women" tagged Person inside "Women of childbearing
    potential"), so a criterion's concepts do not hinge on such a tag.
    """
    found = annotations(doc)
    by_extent: dict[tuple[int, int], list[ConceptMention]] = {}
    for mention in found.concepts:
        by_extent.setdefault((mention.start, mention.end), []).append(mention)
    out: list[tuple[int, int, str, Concept | None]] = []
    carried: set[tuple[int, int]] = set()
    # Each entity's extents and label read once: a Span computes them on access.
    ents = [(e.start, e.end, e.start_char, e.end_char, e.label_) for e in doc.ents]
    for start, end, start_char, end_char, label in ents:
        fitting = [
            m
            for m in found.concepts
            if m.start < end
            and start < m.end
            and (m.concept.domain == label or (start <= m.start and m.end <= end))
        ]
        best = max(fitting, key=lambda m: m.end - m.start, default=None)
        if best is not None:
            carried.add((best.start, best.end))
        # A slice of the known text: ``Span.text`` re-joins the span's tokens.
        concept = (
            best.concept
            if best is not None
            else term_concept(found.text[start_char:end_char])
        )
        out.append((start_char, end_char, label, concept))
    for extent, alternatives in by_extent.items():
        if extent in carried or any(
            start <= extent[0] and extent[1] <= end for start, end, *_ in ents
        ):
            continue
        chosen = next(
            (m for m in alternatives if m.concept.id in measured), alternatives[0]
        )
        out.append(
            (chosen.start_char, chosen.end_char, chosen.concept.domain, chosen.concept)
        )
    # Character order is token order: tokens are never empty.
    return sorted(out, key=lambda item: (item[0], item[1]))


@cache
def _term_index() -> dict[str, Concept]:
    index: dict[str, Concept] = {}
    for term, concept in concept_terms(load_vocabulary()):
        index.setdefault(term.lower(), concept)
    return index


# Entity texts recur across criteria ("pregnancy", "diabetes"), so the folded
# lookups below are memoised.
@lru_cache(maxsize=16384)
def term_concept(text: str) -> Concept | None:
    """The vocabulary concept named exactly by ``text`` (case and plural folded)."""
    key = " ".join(text.lower().split())
    index = _term_index()
    return index.get(key) or index.get(_PLURAL_ES.sub("", key))


# simple_icd_10_cm's data files, named by their release.
_ICD_TABULAR = "icd10c-tabular-*.xml"
_ICD_CODE_LIST = "code-list-*.txt"


@cache
def _icd_index() -> dict[str, str]:
    """Lower-cased description to code of every ICD-10-CM category, subcategory
    and seventh-character code, from the files that ``simple_icd_10_cm`` ships.

    Read here rather than through the package's API, which builds its whole
    code tree on import (~5 s for every ``parse``) and whose block test also
    drops the categories that are their own block (C50 "Malignant neoplasm of
    breast"). Where two codes share a description the later in the tabular
    order (the more specific) wins, as with the package's code list.
    """
    data = _icd_data_dir()
    tabular = ElementTree.parse(_latest(data, _ICD_TABULAR)).getroot()
    listed = _latest(data, _ICD_CODE_LIST).read_text(encoding="utf-8").split("\n")
    confirmed = {line.split(" ")[0].replace(".", "") for line in listed}
    index: dict[str, str] = {}
    for section in tabular.iter("section"):
        for diag in section.findall("diag"):
            index.update(_icd_codes(diag, {}, confirmed))
    return index


def _icd_data_dir() -> Path:
    # Found without importing the package, whose import builds the code tree.
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        raise errors.icd10cm_missing()
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _latest(directory: Path, pattern: str) -> Path:
    releases = sorted(directory.glob(pattern))
    if not releases:
        raise errors.icd10cm_missing()
    return releases[-1]


def _icd_codes(
    diag: ElementTree.Element, seventh: dict[str, str], confirmed: set[str]
) -> Iterator[tuple[str, str]]:
    """A ``<diag>``'s (description, code) pairs in tabular order, its own first.

    A leaf code under a ``sevenChrDef`` (its own or an ancestor's) stands for
    one code per seventh character: the name padded with "X" to six
    characters, the description extended by the character's meaning ("...,
    initial encounter"), kept only where the official code list has it.
    """
    name, description = diag.findtext("name", ""), diag.findtext("desc", "")
    yield description.lower(), name
    seventh = _seventh_characters(diag) or seventh
    children = diag.findall("diag")
    for child in children:
        yield from _icd_codes(child, seventh, confirmed)
    if children or not seventh:
        return
    padded = (f"{name}." if len(name) == 3 else name).ljust(7, "X")
    for char, meaning in seventh.items():
        if (padded + char).replace(".", "") in confirmed:
            yield f"{description}, {meaning}".lower(), padded + char


def _seventh_characters(diag: ElementTree.Element) -> dict[str, str]:
    """A ``<sevenChrDef>``'s characters and meanings (a following note is
    joined to its extension's meaning with "/")."""
    definition = diag.find("sevenChrDef")
    meanings: dict[str, str] = {}
    last = None
    for item in () if definition is None else definition:
        if item.tag == "extension":
            last = item.attrib["char"]
            meanings[last] = item.text or ""
        elif item.tag == "note" and last is not None and item.text:
            meanings[last] += "/" + item.text
    return meanings


@lru_cache(maxsize=16384)
def icd10cm_code(text: str) -> str | None:
    """ICD-10-CM code whose description is ``text`` (or "``text``, unspecified").

    Looked up in the offline ``simple_icd_10_cm`` tables; exact matches only,
    so a code is never guessed from a partial name.
    """
    key = " ".join(text.lower().split())
    index = _icd_index()
    singular = _PLURAL_S.sub("", key)
    for candidate in (key, singular, f"{key}, unspecified", f"{singular}, unspecified"):
        if candidate in index:
            return index[candidate]
    return None


def _codes(text: str, domain: str, concept: Concept | None) -> dict[str, str]:
    if concept is not None and concept.codes:
        return dict(concept.codes)
    if domain == "Condition":
        code = icd10cm_code(text)
        if code is not None:
            return {"ICD10CM": code}
    return {}
