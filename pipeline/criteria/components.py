"""spaCy components of the criteria stage: concepts, values, time windows, scopes.

Each component is a thin class whose ``__call__`` wires plain functions over
the Doc (scispaCy's ``abbreviation.py`` style); the functions are tested on
their own. Trigger words and phrase lists come from
``resources/criteria_lexicon.json`` and the shared vocabulary; the regexes
here are structural (numbers, units, spacing).

* ``trialmatch_criteria_abbreviations``: scispaCy's AbbreviationDetector
  (Schwartz & Hearst 2003), run only on texts that can hold a definition.
* ``trialmatch_criteria_concepts``: vocabulary terms and the lexicon's lay
  phrases (spaCy PhraseMatcher) into ``annotations(doc).concepts``
  (:class:`ConceptMention`); abbreviations defined in
  the text (Schwartz & Hearst 2003, scispaCy's AbbreviationDetector) inherit
  the concept of their long form and vice versa; "warfarin, heparin, or their
  analogs" names the nearest class the listed drugs share.
* ``trialmatch_criteria_values``: numeric limits ``measure comparator value
  unit`` with ranges, dipstick grades and sex-restricted limits.
* ``trialmatch_criteria_windows``: look-back windows in days with their anchor.
* ``trialmatch_criteria_scope``: negation scopes (NegEx, Chapman et al. 2001:
  a cue negates what follows it up to a clause boundary or a terminator), the
  criterion's own negation and mood, and "excluding ..." scopes.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import cast

from scispacy.abbreviation import AbbreviationDetector
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline import errors
from pipeline.criteria.rules import lexicon
from pipeline.patterns import NUMBER, alternation
from pipeline.schema import Comparator, Sex
from pipeline.units import canonical_unit, convert
from pipeline.vocabulary import Concept, Vocabulary, load_vocabulary

# "0, 1 or 2": consecutive whole numbers offered as alternatives (ECOG, grades).
_ENUMERATION = re.compile(
    r"(?<![\w.,\-^/])\d+(?:\s*,\s*\d+)*\s*,?\s*or\s+\d+(?!\d|\.\d)"
)
_PLAIN_NUMBER = re.compile(rf"(?<![\w.,\-^/])(?:{NUMBER})")
_CLAUSE_END = re.compile(r";|\.(?=\s|$)")
_CONJUNCTION_GAP = re.compile(
    r"^[\s,()/&]*(?:and/or|and|or)?[\s,()/&]*$", re.IGNORECASE
)
_MEASURE_DOMAINS = ("Measurement",)
_FALLBACK_DOMAINS = ("Drug", "Observation")
_TIME_UNITS = frozenset({"days", "weeks", "months", "years"})
# Every value pattern needs a digit or a dipstick "+"; a text without one is
# skipped before the (case-insensitive, trie-sized) scans run.
_NUMERIC = re.compile(r"[\d+]")
_UNIT_STOP = re.compile(r"[,;]")

# Where a Doc's CriteriaAnnotations live: spaCy's ``doc.user_data`` store
# rather than a ``doc._`` extension, whose accessor object is rebuilt on every
# access and cost more than some of the rule components.
ANNOTATIONS_KEY = "trialmatch_criteria"


@dataclass(frozen=True, slots=True)
class ConceptMention:
    """A vocabulary concept named in a Doc.

    ``start``/``end`` are token indices, ``start_char``/``end_char`` offsets
    into ``doc.text``. Plain fields rather than a spaCy ``Span`` labelled with
    the concept id: the later components and the record builder read these
    many times per Doc, and each Span built (or read back from ``doc.spans``)
    costs one to two microseconds, each ``label_`` decoded from the
    StringStore about one.
    """

    concept: Concept
    start: int
    end: int
    start_char: int
    end_char: int


def concept_mention(doc: Doc, concept: Concept, start: int, end: int) -> ConceptMention:
    """The mention of ``concept`` by the tokens ``doc[start:end]``."""
    last = doc[end - 1]
    return ConceptMention(concept, start, end, doc[start].idx, last.idx + len(last))


@dataclass(frozen=True)
class ValueMention:
    """A numeric limit found in a Doc; offsets index ``doc.text``."""

    measure: str
    measure_text: str
    comparator: Comparator
    value: float
    value_high: float | None
    unit: str | None
    sex: Sex | None
    start: int
    end: int


@dataclass(frozen=True)
class WindowMention:
    """A time window found in a Doc; offsets index ``doc.text``."""

    days: float
    anchor: str | None
    start: int
    end: int
    minimum: bool = False


@dataclass
class CriteriaAnnotations:
    """Everything the rule components find in one Doc, kept in
    ``doc.user_data[ANNOTATIONS_KEY]`` (one object rather than one entry per
    result)."""

    text: str
    concepts: list[ConceptMention] = field(default_factory=list)
    values: list[ValueMention] = field(default_factory=list)
    windows: list[WindowMention] = field(default_factory=list)
    negation_scopes: list[tuple[int, int]] = field(default_factory=list)
    excluding_scopes: list[tuple[int, int]] = field(default_factory=list)
    negated: bool = False
    mood: str | None = None


def annotations(doc: Doc) -> CriteriaAnnotations:
    """The Doc's :class:`CriteriaAnnotations`, created on first use."""
    found = doc.user_data.get(ANNOTATIONS_KEY)
    if found is None:
        found = CriteriaAnnotations(doc.text)
        doc.user_data[ANNOTATIONS_KEY] = found
    return found


# --- concepts -------------------------------------------------------------------


def _is_abbreviation(term: str) -> bool:
    """Short all-capitals terms ("PE", "MI", "NET") match case-sensitively."""
    letters = [c for c in term if c.isalpha()]
    return len(term) <= 6 and bool(letters) and all(c.isupper() for c in letters)


def plural(term: str) -> str:
    """The English plural of a term's last word ("therapy" -> "therapies")."""
    low = term.lower()
    if low.endswith(("s", "x", "ch", "sh")):
        return term + "es" if not low.endswith("s") else term
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return term[:-1] + "ies"
    return term + "s"


def concept_terms(vocabulary: Vocabulary) -> Iterator[tuple[str, Concept]]:
    """Every (surface term, concept) pair: the vocabulary's terms, then the
    lexicon's lay phrases (``lay_terms``), whose concept ids must exist."""
    yield from vocabulary.terms()
    for cid, phrases in lexicon().lay_terms.items():
        if cid not in vocabulary:
            raise errors.bad_resource(
                "criteria_lexicon.json", f"lay_terms.{cid}: unknown concept id"
            )
        for phrase in phrases:
            yield phrase, vocabulary[cid]


def build_phrase_matchers(
    nlp: Language, vocabulary: Vocabulary
) -> tuple[PhraseMatcher, PhraseMatcher]:
    """Case-sensitive matcher for abbreviations, lower-case one for other terms."""
    exact = PhraseMatcher(nlp.vocab, attr="ORTH")
    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    by_concept: dict[str, tuple[set[str], set[str]]] = {}
    for term, concept in concept_terms(vocabulary):
        exact_terms, lower_terms = by_concept.setdefault(concept.id, (set(), set()))
        if _is_abbreviation(term):
            exact_terms.add(term)
        else:
            lower_terms.update({term.lower(), plural(term).lower()})
    for cid, (exact_terms, lower_terms) in by_concept.items():
        if exact_terms:
            exact.add(cid, list(nlp.tokenizer.pipe(sorted(exact_terms))))
        if lower_terms:
            lower.add(cid, list(nlp.tokenizer.pipe(sorted(lower_terms))))
    return exact, lower


def longest_mentions(mentions: list[ConceptMention]) -> list[ConceptMention]:
    """Longest non-overlapping mentions; same-extent alternatives (one
    extent naming several concepts) are all kept."""
    kept: list[ConceptMention] = []
    taken: set[int] = set()
    extents: set[tuple[int, int]] = set()
    for mention in sorted(mentions, key=lambda m: (m.start - m.end, m.start)):
        extent = (mention.start, mention.end)
        if extent in extents:
            if all(
                k.concept.id != mention.concept.id
                for k in kept
                if (k.start, k.end) == extent
            ):
                kept.append(mention)
            continue
        if taken.isdisjoint(range(mention.start, mention.end)):
            kept.append(mention)
            extents.add(extent)
            taken.update(range(mention.start, mention.end))
    return sorted(kept, key=lambda m: (m.start, m.end))


def may_define_abbreviations(text: str) -> bool:
    """False when ``text`` cannot hold a Schwartz & Hearst (2003) definition.

    The definitions are "long form (short form)" pairs, found by scispaCy's
    "( ... )" token matcher, so a text without "(" has none.
    """
    return "(" in text


def abbreviation_concepts(
    doc: Doc, mentions: list[ConceptMention]
) -> list[ConceptMention]:
    """Mentions for abbreviations (or long forms) whose partner has a concept.

    Uses ``doc._.abbreviations`` from scispaCy's AbbreviationDetector when it
    ran; "Creatinine Clearance rate (CCr)" then gives "CCr" the concept of
    the long form even where the vocabulary lacks the abbreviation.
    """
    if not (
        Doc.has_extension("abbreviations")
        and may_define_abbreviations(annotations(doc).text)
    ):
        return []
    by_extent = {(m.start, m.end): m.concept for m in mentions}
    added: list[ConceptMention] = []
    for short in doc._.abbreviations:
        long_form = short._.long_form
        if not isinstance(long_form, Span):
            continue
        short_concept = by_extent.get((short.start, short.end))
        long_concept = by_extent.get((long_form.start, long_form.end))
        if short_concept is None and long_concept is not None:
            added.append(concept_mention(doc, long_concept, short.start, short.end))
        elif long_concept is None and short_concept is not None:
            added.append(
                concept_mention(doc, short_concept, long_form.start, long_form.end)
            )
    return added


def shared_class(vocabulary: Vocabulary, concept_ids: list[str]) -> str | None:
    """The most specific class every concept in ``concept_ids`` belongs to."""
    common: set[str] | None = None
    for cid in concept_ids:
        ancestors = set(vocabulary.ancestors(cid))
        common = ancestors if common is None else common & ancestors
    if not common:
        return None
    return max(sorted(common), key=lambda c: len(vocabulary.ancestors(c)))


def analog_concepts(
    doc: Doc,
    mentions: list[ConceptMention],
    analog_matches: list[Span],
    vocabulary: Vocabulary,
) -> list[ConceptMention]:
    """ "X, Y, or their analogs": a mention of the class X and Y share."""
    out = []
    for analog in analog_matches:
        listed: list[ConceptMention] = []
        boundary = analog.start_char
        text = annotations(doc).text
        for mention in reversed([m for m in mentions if m.end <= analog.start]):
            gap = text[mention.end_char : boundary]
            if not _CONJUNCTION_GAP.match(gap):
                break
            if mention.concept.domain != "Drug":
                break
            listed.append(mention)
            boundary = mention.start_char
        cls = (
            shared_class(vocabulary, [m.concept.id for m in listed]) if listed else None
        )
        if cls is not None:
            out.append(concept_mention(doc, vocabulary[cls], analog.start, analog.end))
    return out


@Language.factory("trialmatch_criteria_abbreviations")
class CriteriaAbbreviations:
    """scispaCy's AbbreviationDetector on the texts that can define one
    (:func:`may_define_abbreviations`); skipping the others leaves
    ``doc._.abbreviations`` at its empty default and saves the detector's
    matcher passes over most criteria."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.detector = AbbreviationDetector(nlp)
        # The detector adds one ORTH pattern per definition found to this
        # matcher and removes it after the Doc; spaCy's default pattern
        # validation (pydantic, per add) cost about a third of its time on
        # Chia, and patterns built from token texts are always well formed.
        self.detector.global_matcher = Matcher(nlp.vocab, validate=False)

    def __call__(self, doc: Doc) -> Doc:
        if may_define_abbreviations(annotations(doc).text):
            return self.detector(doc)
        return doc


@Language.factory("trialmatch_criteria_concepts")
class CriteriaConcepts:
    """Vocabulary concept mentions into ``annotations(doc).concepts``."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.vocabulary = load_vocabulary()
        self.exact, self.lower = build_phrase_matchers(nlp, self.vocabulary)
        # The matchers' label of each concept (the StringStore key of its id).
        self.by_key = {
            nlp.vocab.strings.add(cid): concept
            for cid, concept in self.vocabulary.concepts.items()
        }
        self.analogs = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.analogs.add("analog", list(nlp.tokenizer.pipe(lexicon().analog_terms)))

    def __call__(self, doc: Doc) -> Doc:
        mentions = longest_mentions(
            [
                concept_mention(doc, self.by_key[key], start, end)
                for key, start, end in self.exact(doc) + self.lower(doc)
            ]
        )
        # Re-selecting is needed only when abbreviations added mentions: the
        # selection of a selection is itself.
        added = abbreviation_concepts(doc, mentions)
        if added:
            mentions = longest_mentions(mentions + added)
        analog_matches = filter_spans(self.analogs(doc, as_spans=True))
        mentions += analog_concepts(doc, mentions, analog_matches, self.vocabulary)
        annotations(doc).concepts = sorted(mentions, key=lambda m: (m.start, m.end))
        return doc


# --- values ---------------------------------------------------------------------


@cache
def _value_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    lex = lexicon()
    words = [c for c in lex.comparators if c[0].isalpha()]
    symbols = [c for c in lex.comparators if not c[0].isalpha()]
    dip = alternation(list(lex.dipstick_values))
    comparator = re.compile(
        rf"(?P<comp>(?<![\w])(?:{alternation(words)})|{alternation(symbols)})\s*"
        rf"(?P<num>{NUMBER}|(?:{dip})(?![\w+]))",
        re.IGNORECASE,
    )
    ranged = re.compile(
        rf"(?<![\w.,\-^/])(?:(?P<between>between|from)\s+)?(?P<lo>{NUMBER})\s*"
        rf"(?P<join>{alternation(lex.range_joiners)})\s*(?P<hi>{NUMBER})(?![\d^])",
        re.IGNORECASE,
    )
    trailing = re.compile(
        rf"\s*(?P<trail>{alternation(lex.trailing_comparators)})\b", re.IGNORECASE
    )
    return comparator, ranged, trailing


@cache
def _sex_pattern() -> re.Pattern[str]:
    terms = alternation(lexicon().sex_terms)
    return re.compile(rf"\s*(?:in|for|among)\s+(?P<sex>{terms})\b", re.IGNORECASE)


def _key(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def number(text: str) -> float:
    """``"12,000"`` -> 12000.0; dipstick grades ``"++"`` -> 2.0."""
    grades = lexicon().dipstick_values
    if text in grades:
        return float(grades[text])
    return float(text.replace(",", ""))


def unit_at(text: str, pos: int) -> tuple[str | None, int]:
    """The canonical unit written at ``text[pos:]`` and where it ends.

    Candidates end at word boundaries, longest first, up to five words, and are
    accepted only when ``pipeline.units.canonical_unit`` knows them.
    """
    start = pos
    if start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text) or text[start].isdigit():
        return None, pos
    # Units hold no "," or ";" and at most four spaces ("× normal upper limit
    # (ULN)"), so the candidates stop there.
    window = _UNIT_STOP.split(text[start : start + 40], maxsplit=1)[0]
    window = " ".join(window.split(" ", 5)[:5])
    for i in range(len(window), 0, -1):
        at_boundary = (
            i == len(window)
            or window[i] in " ,;:"
            or window[i - 1] == ")"
            or (window[i] in "()" and window[i - 1] != " ")
            or (window[i] == "." and window[i + 1 : i + 2] in ("", " "))
        )
        if not at_boundary:
            continue
        candidate = window[:i]
        if not candidate.strip() or candidate.count("(") != candidate.count(")"):
            continue
        unit = canonical_unit(candidate)
        if unit is not None:
            return unit, start + i
    return None, pos


def _measures_in(
    mentions: list[ConceptMention], lo: int, hi: int, domains: tuple[str, ...]
) -> list[ConceptMention]:
    return [
        m
        for m in mentions
        if lo <= m.start_char and m.end_char <= hi and m.concept.domain in domains
    ]


def _measure_run(text: str, candidates: list[ConceptMention]) -> list[ConceptMention]:
    """The last measure and those joined to it by "and"/"or"/commas/brackets."""
    run = [candidates[-1]]
    for mention in reversed(candidates[:-1]):
        if _CONJUNCTION_GAP.match(text[mention.end_char : run[-1].start_char]):
            run.append(mention)
        else:
            break
    unique: dict[str, ConceptMention] = {}
    for mention in reversed(run):
        unique.setdefault(mention.concept.id, mention)
    return list(unique.values())


def _clause(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for match in _CLAUSE_END.finditer(text, 0, pos):
        start = match.end()
    found = _CLAUSE_END.search(text, pos)
    return start, found.start() if found else len(text)


def find_values(doc: Doc) -> list[ValueMention]:
    """Numeric limits of ``doc`` bound to the measure they constrain."""
    comparator_re, range_re, trailing_re = _value_patterns()
    lex = lexicon()
    text = annotations(doc).text
    if not _NUMERIC.search(text):
        return []
    raw: list[tuple[int, int, Comparator, float, float | None, str | None]] = []
    between: Comparator = "between"
    taken: list[tuple[int, int]] = []
    for match in comparator_re.finditer(text):
        unit, end = unit_at(text, match.end())
        comp = cast(Comparator, lex.comparators[_key(match.group("comp"))])
        raw.append((match.start(), end, comp, number(match.group("num")), None, unit))
        taken.append((match.start(), match.end()))
    for match in _ENUMERATION.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in taken):
            continue
        options = sorted(int(n) for n in re.findall(r"\d+", match.group()))
        if options != list(range(options[0], options[0] + len(options))):
            continue
        unit, end = unit_at(text, match.end())
        raw.append(
            (match.start(), end, between, float(options[0]), float(options[-1]), unit)
        )
        taken.append((match.start(), match.end()))
    for match in range_re.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in taken):
            continue
        join = match.group("join").lower()
        if join == "and" and not match.group("between"):
            continue
        unit, end = unit_at(text, match.end())
        lo, hi = number(match.group("lo")), number(match.group("hi"))
        if hi < lo:
            continue
        raw.append((match.start(), end, between, lo, hi, unit))
        taken.append((match.start(), match.end()))
    numbers = _PLAIN_NUMBER.finditer(text) if trailing_re.search(text) else ()
    for match in numbers:
        if any(a < match.end() and match.start() < b for a, b in taken):
            continue
        unit, end = unit_at(text, match.end())
        trail = trailing_re.match(text, end)
        if trail is None:
            continue
        comp = cast(Comparator, lex.trailing_comparators[_key(trail.group("trail"))])
        raw.append(
            (match.start(), trail.end(), comp, number(match.group()), None, unit)
        )
    raw.sort()
    mentions = annotations(doc).concepts
    out: list[ValueMention] = []
    previous: ValueMention | None = None
    previous_measures: list[ConceptMention] = []
    for i, (start, end, comp, value, high, unit) in enumerate(raw):
        if unit in _TIME_UNITS and _window_patterns()[2].match(text, end):
            continue
        sex = None
        sex_match = _sex_pattern().match(text, end)
        if sex_match is not None:
            sex = lex.sex_terms[sex_match.group("sex").lower()]
            end = sex_match.end()
        c_start, c_end = _clause(text, start)
        gap_start = max(c_start, previous.end if previous else 0)
        next_start = raw[i + 1][0] if i + 1 < len(raw) else len(text)
        measures = _bind(
            text, mentions, gap_start, start, end, min(c_end, next_start), unit
        )
        if (
            not measures
            and previous is not None
            and _CONJUNCTION_GAP.match(text[previous.end : start])
        ):
            measures = previous_measures
        found = [
            ValueMention(
                m.concept.id,
                text[m.start_char : m.end_char],
                comp,
                value,
                high,
                unit,
                sex,
                start,
                end,
            )
            for m in measures
        ]
        if not found and unit in lex.default_measure_for_unit:
            measure = lex.default_measure_for_unit[unit]
            found = [
                ValueMention(measure, "", comp, value, high, unit, sex, start, end)
            ]
        out.extend(found)
        if found:
            previous, previous_measures = found[0], measures
    return out


def _bind(
    text: str,
    mentions: list[ConceptMention],
    gap_start: int,
    start: int,
    end: int,
    forward_end: int,
    unit: str | None,
) -> list[ConceptMention]:
    """The measure(s) a value at ``[start, end)`` limits.

    Nearest lab/measurement concept(s) before it in its clause ("AST and ALT
    <= 5 x ULN" gives both); else, for a dose or other unit, the nearest drug
    or observation before it ("aspirin (<=100 mg/d)"); else the first
    measurement after it (">=2 grade heart failure (NYHA grade)").
    """
    before = _measures_in(mentions, gap_start, start, _MEASURE_DOMAINS)
    if before:
        return _measure_run(text, before)
    if unit is not None and unit not in _TIME_UNITS:
        dosed = _measures_in(mentions, gap_start, start, _FALLBACK_DOMAINS)
        if dosed:
            return [dosed[-1]]
    after = _measures_in(mentions, end, forward_end, _MEASURE_DOMAINS)
    return [after[0]] if after else []


@Language.factory("trialmatch_criteria_values")
class CriteriaValues:
    """Numeric limits into ``annotations(doc).values``."""

    def __init__(self, nlp: Language, name: str) -> None:
        _value_patterns()

    def __call__(self, doc: Doc) -> Doc:
        annotations(doc).values = find_values(doc)
        return doc


# --- time windows ---------------------------------------------------------------


@cache
def _window_patterns() -> tuple[re.Pattern[str], ...]:
    lex = lexicon()
    words = alternation(list(lex.number_words))
    duration = re.compile(
        rf"(?<![\w.,])(?P<num>{NUMBER}|(?:{words})\b)\s*-?\s*"
        rf"(?P<unit>{alternation(lex.time_units)})\b",
        re.IGNORECASE,
    )
    before = re.compile(
        rf"(?<!\w)(?:{alternation(lex.window_cues_before)})\s*$", re.IGNORECASE
    )
    after = re.compile(rf"\s*(?:{alternation(lex.window_cues_after)})\b", re.IGNORECASE)
    anchor = re.compile(rf"\b(?:{alternation(lex.anchors)})\b", re.IGNORECASE)
    # "for at least 3 months after": a duration to keep to, not time elapsed.
    minimum = re.compile(
        rf"(?<!\w)(?<!\b(?:{alternation(lex.duration_cues)}) )"
        rf"(?:{alternation(lex.window_minimum_cues)})\s*$",
        re.IGNORECASE,
    )
    return duration, before, after, anchor, minimum


def find_windows(doc: Doc, values: list[ValueMention]) -> list[WindowMention]:
    """Look-back windows ("within 6 months", "4 weeks prior to the first dose").

    A duration after a minimum cue and before an elapsed-time cue ("at least
    4 weeks since", "a minimum of two weeks after") is a least time elapsed.
    """
    duration_re, before_re, after_re, anchor_re, minimum_re = _window_patterns()
    lex = lexicon()
    text = annotations(doc).text
    out = []
    for match in duration_re.finditer(text):
        if any(v.start < match.end() and match.start() < v.end for v in values):
            continue
        cue = before_re.search(text, max(0, match.start() - 30), match.start())
        follow = after_re.match(text, match.end())
        opening = cue is not None and _key(cue.group()) in (lex.window_open_cues)
        if not opening and follow is None:
            continue
        raw_number = match.group("num").lower()
        amount = lex.number_words.get(raw_number) or number(raw_number)
        unit = lex.time_units[match.group("unit").lower()]
        days = convert(float(amount), unit, "days")
        if days is None:
            continue
        _, clause_end = _clause(text, match.end())
        anchor = anchor_re.search(text, match.end(), min(clause_end, match.end() + 60))
        start = cue.start() if cue is not None else match.start()
        end = anchor.end() if anchor is not None else match.end()
        anchor_id = lex.anchors[_key(anchor.group())] if anchor else None
        least = minimum_re.search(text, max(0, match.start() - 30), match.start())
        minimum = least is not None and follow is not None
        if minimum:
            start = min(start, least.start())
        out.append(WindowMention(round(days, 1), anchor_id, start, end, minimum))
    return out


@Language.factory("trialmatch_criteria_windows")
class CriteriaWindows:
    """Time windows into ``annotations(doc).windows`` (after the values component)."""

    def __init__(self, nlp: Language, name: str) -> None:
        _window_patterns()

    def __call__(self, doc: Doc) -> Doc:
        found = annotations(doc)
        found.windows = find_windows(doc, found.values)
        return doc


# --- scopes ---------------------------------------------------------------------


@cache
def _scope_patterns() -> dict[str, re.Pattern[str]]:
    lex = lexicon()
    cues = [*lex.negation_cues, *lex.moods, *lex.excluding_triggers]
    return {
        "negation": re.compile(rf"\b(?:{alternation(lex.negation_cues)})\b", re.I),
        "starts": re.compile(
            rf"^\W*(?:{alternation(lex.criterion_negation_starts)})\b", re.I
        ),
        "terminator": re.compile(
            rf"\b(?:{alternation(lex.scope_terminators)})\b", re.I
        ),
        "mood": re.compile(rf"\b(?:{alternation(lex.moods)})\b", re.I),
        "excluding": re.compile(
            rf"\b(?:{alternation(lex.excluding_triggers)})\b", re.I
        ),
        # Any negation, mood or excluding cue: one scan that rules out the
        # three above on the many criteria with none of them.
        "cue": re.compile(rf"\b(?:{alternation(cues)})\b", re.I),
    }


def negation_scopes(text: str) -> list[tuple[int, int]]:
    """NegEx scopes: from each cue to the clause end or the next terminator."""
    patterns = _scope_patterns()
    scopes = []
    for cue in patterns["negation"].finditer(text):
        _, end = _clause(text, cue.end())
        stop = patterns["terminator"].search(text, cue.end(), end)
        scopes.append((cue.end(), stop.start() if stop else end))
    return scopes


def excluding_scopes(text: str) -> list[tuple[int, int]]:
    """ "(excluding A, B and C)": to the closing bracket, else to the clause end."""
    scopes = []
    for trigger in _scope_patterns()["excluding"].finditer(text):
        depth = text.count("(", 0, trigger.start()) - text.count(
            ")", 0, trigger.start()
        )
        end = _clause(text, trigger.end())[1]
        if depth > 0:
            close = text.find(")", trigger.end())
            end = close if close != -1 else end
        scopes.append((trigger.end(), end))
    return scopes


def criterion_mood(text: str) -> str | None:
    """The mood a criterion is phrased in ("should agree to" -> ``willing``)."""
    found = _scope_patterns()["mood"].search(text)
    return lexicon().moods[_key(found.group())] if found else None


@Language.factory("trialmatch_criteria_scope")
class CriteriaScope:
    """Negation, mood and excluding scopes of a criterion."""

    def __init__(self, nlp: Language, name: str) -> None:
        _scope_patterns()

    def __call__(self, doc: Doc) -> Doc:
        found = annotations(doc)
        patterns = _scope_patterns()
        found.negated = bool(patterns["starts"].match(found.text))
        if patterns["cue"].search(found.text):
            found.mood = criterion_mood(found.text)
            found.negation_scopes = negation_scopes(found.text)
            found.excluding_scopes = excluding_scopes(found.text)
        return doc
