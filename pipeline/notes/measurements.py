"""Value-bearing mentions: labs, scores, vital signs, biomarkers, stage, demographics.

The ``trialmatch_measurements`` component runs after ``trialmatch_concepts`` and
before ``trialmatch_context`` (so ConText's modifiers reach its spans too). It
reads the concept mentions in ``doc.spans["mentions"]`` and, for each, looks
only at the text right after it, up to the end of its clause or the next
mention (the trigger-anchored windows of i2b2-era extractors such as MedEx,
Xu et al. 2010): "Hgb 9.1 g/dL" becomes ``hemoglobin`` = 91 g/L, "BP 152/96"
becomes ``systolic_bp`` and ``diastolic_bp``, "HER2 negative (IHC 1+)" becomes
``her2`` = "negative". Two kinds of fact have no vocabulary trigger and are
found by one scan of the text each: age/sex ("71-year-old woman", "Mrs.",
pronouns) and TNM stage ("pT3N1M1"). Finally every mention is tied to the
nearest date expression of its clause (:mod:`pipeline.notes.dates`), resolved
against ``doc._.note_date`` when the caller set it.

A mention's value is read as ``span._.value`` (a :class:`MeasuredValue`, None
for a plain mention); values live in ``doc._.measured_values`` keyed by
offsets and label, because "BP 152/96" is two mentions over the same span.

The logic is plain functions over the note text and character offsets,
tested on their own; the component only wires them onto the Doc. Trigger words,
link words, units, polarity words and plausibility limits are data
(``resources/notes_measurements.json``, ``notes_biomarkers.json``,
``notes_demographics.json``); only the shapes of numbers live here.

(No ``from __future__ import annotations``: spaCy reads the factory signature.)
"""

import bisect
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.notes.dates import date_regex, is_past, resolve
from pipeline.notes.tokenizer import note_text
from pipeline.patterns import NUMBER
from pipeline.resources import load_json
from pipeline.units import canonical_unit, convert
from pipeline.vocabulary import Concept, Vocabulary, load_vocabulary


def _span_value(span: Span) -> "MeasuredValue | None":
    # spaCy keys span extension values by offsets alone, but "BP 152/96" is two
    # mentions (systolic, diastolic) over one span: values are kept per label.
    values = span.doc._.measured_values
    return values.get((span.start_char, span.end_char, span.label_)) if values else None


Doc.set_extension("note_date", default=None, force=True)
Doc.set_extension("measured_values", default=None, force=True)
Span.set_extension("value", getter=_span_value, force=True)


@dataclass(frozen=True)
class MeasuredValue:
    """What a mention says about its concept beyond its presence.

    ``value``/``unit`` are in the concept's canonical unit when a conversion is
    known (``raw_value``/``raw_unit`` keep what the note wrote);
    ``value_as_string`` holds a categorical result ("negative", "IVB") or the
    measurement as written; ``event_date`` is the resolved date of the clause's
    date expression (``date_text``); ``past`` is True when that expression puts
    the mention in the past ("years ago", a date weeks before the note).
    """

    value: float | None = None
    unit: str | None = None
    comparator: str | None = None
    value_as_string: str | None = None
    event_date: dt.date | None = None
    date_text: str | None = None
    raw_value: float | None = None
    raw_unit: str | None = None
    past: bool = False


@dataclass(frozen=True)
class Found:
    """A value-bearing mention found in the text, before it becomes a Span."""

    start: int
    end: int
    label: str
    value: MeasuredValue | None


# --- rule data -------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssumedUnit(_Strict):
    """The unit a bare number is read in, when it is below ``below`` (if set)."""

    unit: str
    below: float | None = None


class LabRule(_Strict):
    """How to read one lab; a value written in a ``forbidden_units`` unit is
    another measure ("Neutrophils 81%" is a differential, not a count)."""

    concept: str
    assumed_units: list[AssumedUnit]
    forbidden_units: list[str] = []
    # Also read a bare number just before the name, in the assumed unit:
    # "at 11 weeks gestation" is a gestational age of 11 weeks.
    number_before: bool = False


class ScoreRule(_Strict):
    concept: str
    low: int
    high: int
    unit: str | None


class BloodPressureRule(_Strict):
    trigger: str
    systolic: str
    diastolic: str
    unit: str


class MeasurementRules(_Strict):
    """Schema of ``notes_measurements.json``."""

    link_words: list[str]
    comparators: dict[str, list[str]]
    uln_words: list[str]
    reference_words: list[str]
    labs: list[LabRule]
    scores: list[ScoreRule]
    roman_numerals: dict[str, int]
    blood_pressure: BloodPressureRule
    stage_concept: str
    histologies: list[str]
    dose_units: list[str]
    doses_per_day: dict[str, int]
    dose_routes: list[str]
    daily_units: dict[str, str]
    cycle_words: list[str]
    cycle_links_before: list[str]
    cycle_links_after: list[str]
    treatment_qualifiers: list[str]
    coordinators: list[str]
    metastasis_sites: dict[str, str]
    diagnosis_words: list[str]
    diagnosis_classes: list[str]


class MarkerRule(_Strict):
    concept: str
    also: list[str]
    positive_concept: str | None
    positive: list[str]
    negative: list[str]
    equivocal: list[str]
    decisive: list[str]
    ihc_scores: dict[str, str]


class BiomarkerRules(_Strict):
    """Schema of ``notes_biomarkers.json``."""

    markers: list[MarkerRule]
    score_kinds: dict[str, list[str]]


class DemographicRules(_Strict):
    """Schema of ``notes_demographics.json``."""

    age_concept: str
    sex_concept: str
    age_suffixes: list[str]
    age_prefixes: list[str]
    female_words: list[str]
    male_words: list[str]
    female_titles: list[str]
    male_titles: list[str]
    female_pronouns: list[str]
    male_pronouns: list[str]
    min_pronouns: int
    pronoun_ratio: float
    scan_chars: int


def _alt(words: Iterable[str]) -> str:
    """A regex alternation, longest first, each word bounded where it is a word.

    Words sharing their boundaries share one ``\\b`` outside their group, which
    Python's engine tests once per position instead of once per word.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        left = r"\b" if word[:1].isalnum() else ""
        # "-" must not take the hyphen of "HER2-positive", nor "<" a word.
        right = r"\b" if word[-1:].isalnum() else r"(?![A-Za-z])"
        part = re.escape(word).replace(r"\ ", r"\s+")
        groups.setdefault((left, right), []).append(part)
    return "|".join(
        f"{left}(?:{'|'.join(parts)}){right}" for (left, right), parts in groups.items()
    )


def _starts(words: Iterable[str], *, fold: bool = True) -> str:
    """A look-ahead on the first characters of ``words``: it lets Python's regex
    engine skip positions where no word can start (several times faster)."""
    chars = {w[0] for w in words if w}
    if fold:
        chars |= {c.lower() for c in chars} | {c.upper() for c in chars}
    return rf"(?=[{re.escape(''.join(sorted(chars)))}])"


@dataclass(frozen=True)
class Patterns:
    """Every rule file compiled once."""

    vocab: Vocabulary
    rules: MeasurementRules
    markers: dict[str, MarkerRule]
    score_kinds: dict[str, list[str]]
    demo: DemographicRules
    link: re.Pattern[str]
    comparator: dict[str, str]
    lab_value: re.Pattern[str]
    reference: re.Pattern[str]
    score: re.Pattern[str]
    pressure: re.Pattern[str]
    stage: re.Pattern[str]
    histology: re.Pattern[str]
    dose: re.Pattern[str]
    cycles_before: re.Pattern[str]
    cycles_after: re.Pattern[str]
    polarity: dict[str, re.Pattern[str]]
    coordination: re.Pattern[str]
    site_list: re.Pattern[str]
    diagnosis: re.Pattern[str]
    site: re.Pattern[str]
    age: re.Pattern[str]
    title: re.Pattern[str]
    pronoun: re.Pattern[str]


# Starting at the literal "T" lets the regex engine skip ahead; the optional
# c/p/y/r prefix is checked in Python (see tnm_stages).
_TNM = re.compile(r"T(?:[0-4][a-d]?|is|x)\s?N(?:[0-3][a-c]?|x)\s?M(?:[01][a-c]?|x)\b")
_TNM_PREFIX = re.compile(r"(?<![^\W_])[cpyr]{0,2}$")
_CLAUSE_MARK = re.compile(r"[\n;.]")
_WINDOW = 80


@cache
def patterns() -> Patterns:
    """The compiled rules (cached: built once per process)."""
    rules = load_json("notes_measurements.json", MeasurementRules)
    bio = load_json("notes_biomarkers.json", BiomarkerRules)
    demo = load_json("notes_demographics.json", DemographicRules)
    link = rf"(?:\s*(?:{_alt(rules.link_words)}))*\s*"
    comparator = {w.lower(): op for op, ws in rules.comparators.items() for w in ws}
    comp = rf"(?P<comp>{_alt(comparator)})?\s*"
    roman = _alt(rules.roman_numerals)
    markers = {}
    polarity = {}
    for marker in bio.markers:
        for cid in [marker.concept, *marker.also]:
            markers[cid] = marker
        groups = []
        if marker.ihc_scores:
            groups.append(
                r"(?:ihc\s*:?\s*|(?<=[\s(]))(?P<ihc>[0-3])(?:\s*\+|(?![\d.%]))"
            )
        groups += [
            rf"(?P<{kind}>{_alt(getattr(marker, kind))})"
            for kind in ("positive", "negative", "equivocal")
            if getattr(marker, kind)
        ]
        if marker.decisive:
            groups.append(rf"(?P<decisive>{_alt(marker.decisive)})")
        polarity[marker.concept] = re.compile("|".join(groups), re.IGNORECASE)
    suffix = _alt(demo.age_suffixes)
    sex_words = _alt([*demo.female_words, *demo.male_words])
    return Patterns(
        vocab=load_vocabulary(),
        rules=rules,
        markers=markers,
        score_kinds=bio.score_kinds,
        demo=demo,
        link=re.compile(link, re.IGNORECASE),
        comparator=comparator,
        lab_value=re.compile(rf"{link}{comp}(?P<num>{NUMBER})", re.IGNORECASE),
        reference=re.compile(
            rf"(?:{_alt(rules.uln_words)})\s*[:=]?\s*(?P<uln>{NUMBER})"
            rf"|(?:{_alt(rules.reference_words)})\s*[:=]?\s*"
            rf"(?P<lo>{NUMBER})\s*(?:-|–|to)\s*(?P<hi>{NUMBER})",
            re.IGNORECASE,
        ),
        score=re.compile(
            rf"{link}{comp}(?P<a>\d{{1,3}}|{roman})(?:\s*(?:-|–|to|/)\s*"
            rf"(?P<b>\d{{1,3}}|{roman}))?(?![\d.])",
            re.IGNORECASE,
        ),
        pressure=re.compile(
            rf"{link}(?P<s>\d{{2,3}})\s*/\s*(?P<d>\d{{2,3}})(?!\d)", re.IGNORECASE
        ),
        stage=re.compile(
            rf"\s*(?P<r>{'|'.join(sorted(rules.roman_numerals, key=len, reverse=True))}"
            r"|[0-4])(?P<sub>[a-c])?(?![^\W_])",
            re.IGNORECASE,
        ),
        histology=re.compile(_alt(rules.histologies), re.IGNORECASE),
        dose=re.compile(
            rf"\s*(?P<num>{NUMBER})\s*(?P<unit>{_alt(rules.dose_units)})"
            rf"(?:\s*(?:(?:{_alt(rules.dose_routes)})\s*)?"
            rf"(?P<freq>{_alt(rules.doses_per_day)}))?",
            re.IGNORECASE,
        ),
        cycles_before=re.compile(
            rf"(?P<n>\d+)\s*(?:{_alt(rules.cycle_words)})\s*"
            rf"(?:{_alt(rules.cycle_links_before)})?"
            rf"(?:\s*(?:{_alt(rules.treatment_qualifiers)}))*\s*$",
            re.IGNORECASE,
        ),
        cycles_after=re.compile(
            rf"\s*(?:{_alt(rules.cycle_links_after)})\s*(?P<n>\d+)\s*"
            rf"(?:{_alt(rules.cycle_words)})?",
            re.IGNORECASE,
        ),
        polarity=polarity,
        coordination=re.compile(rf"(?:\s*(?:{_alt(rules.coordinators)}))+\s*"),
        site_list=re.compile(
            rf"(?:(?:{_alt(rules.metastasis_sites)})(?:\s*(?:{_alt(rules.coordinators)}))+"
            r"\s*)+$",
            re.IGNORECASE,
        ),
        site=re.compile(_alt(rules.metastasis_sites), re.IGNORECASE),
        diagnosis=re.compile(_alt(rules.diagnosis_words), re.IGNORECASE),
        age=re.compile(
            rf"{_starts([*'0123456789', *demo.age_prefixes])}"
            rf"(?:(?P<n>\d{{1,3}})\s*-?\s*(?P<suffix>{suffix})"
            rf"(?:\s*-?\s*(?P<sex>{sex_words}))?"
            rf"|(?:{_alt(demo.age_prefixes)})\s*(?P<n2>\d{{1,3}})(?![\d.]))",
            re.IGNORECASE,
        ),
        title=re.compile(
            rf"{_starts([*demo.female_titles, *demo.male_titles], fold=False)}"
            rf"(?:(?P<f>{_alt(demo.female_titles)})|(?P<m>{_alt(demo.male_titles)}))"
        ),
        pronoun=re.compile(
            rf"{_starts([*demo.female_pronouns, *demo.male_pronouns])}"
            rf"(?:(?P<f>{_alt(demo.female_pronouns)})"
            rf"|(?P<m>{_alt(demo.male_pronouns)}))",
            re.IGNORECASE,
        ),
    )


# --- value extractors: (text, trigger start, trigger end, window end) -> Found ----


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _unit_after(text: str, pos: int, end: int) -> tuple[str | None, int]:
    """The canonical unit written at ``pos`` (up to three words), and its end."""
    words = list(re.finditer(r"[^\s,;()\[\]]+", text[pos:end]))[:3]
    for n in range(len(words), 0, -1):
        if n > 1 and text[pos + words[0].end() : pos + words[n - 1].start()].strip():
            continue
        unit = canonical_unit(text[pos + words[0].start() : pos + words[n - 1].end()])
        if unit is not None and not text[pos : pos + words[0].start()].strip():
            return unit, pos + words[n - 1].end()
    return None, pos


_DATE_LEAD = re.compile(r"\s*(?:on|from|dated|of|\()?\s*")
_NUMBER_BEFORE = re.compile(rf"(?<![\d.,])(?P<num>{NUMBER})\s*$")


def _after_date(text: str, pos: int, end: int) -> int:
    """Past a date written between a lab's name and its value ("Hgb on
    11/15/2026 was 7.9"), else ``pos``."""
    lead = _DATE_LEAD.match(text, pos, end)
    start = lead.end() if lead else pos
    date = date_regex().match(text, start, end)
    return date.end() if date is not None and date.start() == start else pos


def _assumed_unit(rule: LabRule, value: float) -> str | None:
    for assumed in rule.assumed_units:
        if assumed.below is None or value < assumed.below:
            return assumed.unit
    return None


def _value_before(text: str, start: int, end: int, rule: LabRule) -> Found | None:
    """A bare number right before the name, in the rule's assumed unit."""
    m = _NUMBER_BEFORE.search(text, max(0, start - 16), start)
    if m is None:
        return None
    raw = _number(m["num"])
    return Found(
        m.start("num"),
        end,
        rule.concept,
        MeasuredValue(
            value=raw,
            unit=_assumed_unit(rule, raw),
            value_as_string=text[m.start("num") : end],
            raw_value=raw,
        ),
    )


def lab_value(
    text: str, start: int, end: int, window_end: int, concept: Concept, rule: LabRule
) -> Found | None:
    """A lab result after its name, in the concept's canonical unit.

    "Hgb 9.1 g/dL" -> 91 g/L; "ANC 1,500/mm3" -> 1.5 10^9/L; "AST 61 (ULN 40)"
    and "AST 61 U/L (ref 10-40)" -> 1.525 xULN. A bare number is read in the
    rule's assumed unit for its size (Hgb 9.1 is g/dL, Hgb 91 is g/L); where
    the rule allows, so is one just before the name ("11 weeks gestation").
    """
    pat = patterns()
    m = pat.lab_value.match(text, _after_date(text, end, window_end), window_end)
    if m is None:
        return _value_before(text, start, end, rule) if rule.number_before else None
    raw = _number(m["num"])
    written, stop = _unit_after(text, m.end(), window_end)
    if written in rule.forbidden_units:
        return None
    unit = written or _assumed_unit(rule, raw)
    ref = pat.reference.search(text, stop, window_end)
    uln = None
    if ref is not None:
        uln = _number(ref["uln"] or ref["hi"])
        stop = text.find(")", ref.end(), window_end) + 1 or ref.end()
    value: float | None = raw
    out_unit = unit
    if concept.unit == "xULN" and uln:
        value, out_unit = raw / uln, "xULN"
    elif concept.unit and unit and unit != concept.unit:
        converted = convert(raw, unit, concept.unit, measure=concept.id)
        if converted is not None:
            value, out_unit = converted, concept.unit
    as_written = text[m.start("num") : stop].strip()
    return Found(
        start,
        stop,
        concept.id,
        MeasuredValue(
            value=round(value, 6) if value is not None else None,
            unit=out_unit,
            comparator=pat.comparator.get(" ".join((m["comp"] or "").lower().split())),
            value_as_string=as_written,
            raw_value=raw,
            raw_unit=written,
        ),
    )


def _score_number(text: str) -> int:
    numerals = patterns().rules.roman_numerals
    return int(text) if text.isdigit() else numerals[text.lower()]


def score_value(
    text: str, start: int, end: int, window_end: int, rule: ScoreRule
) -> Found | None:
    """A performance score: "ECOG 2", "ECOG PS 0-1" (the worse bound), "KPS 80%"."""
    pat = patterns()
    m = pat.score.match(text, end, window_end)
    if m is None:
        return None
    values = [_score_number(m["a"])] + ([_score_number(m["b"])] if m["b"] else [])
    if not all(rule.low <= v <= rule.high for v in values):
        return None
    stop = m.end()
    if text[stop : stop + 1] == "%":
        stop += 1
    return Found(
        start,
        stop,
        rule.concept,
        MeasuredValue(
            value=float(max(values)),
            unit=rule.unit,
            comparator=pat.comparator.get(" ".join((m["comp"] or "").lower().split())),
            value_as_string=text[m.start("a") : stop],
        ),
    )


def blood_pressure(text: str, start: int, end: int, window_end: int) -> list[Found]:
    """ "BP 152/96" -> a systolic and a diastolic fact over the same evidence."""
    pat = patterns()
    rule = pat.rules.blood_pressure
    m = pat.pressure.match(text, end, window_end)
    if m is None:
        return []
    _, stop = _unit_after(text, m.end(), window_end)
    stop = max(stop, m.end())
    written = text[m.start("s") : stop]
    return [
        Found(
            start,
            stop,
            cid,
            MeasuredValue(
                value=float(m[group]),
                unit=rule.unit,
                value_as_string=written,
                raw_value=float(m[group]),
            ),
        )
        for cid, group in ((rule.systolic, "s"), (rule.diastolic, "d"))
    ]


def biomarker_value(
    text: str, start: int, end: int, window_end: int, rule: MarkerRule
) -> MeasuredValue | None:
    """A biomarker result with its polarity, read from the trigger and its window.

    Polarity is "positive" (the alteration is present: HER2 overexpressed,
    MSI-H/dMMR, RAS/BRAF mutant), "negative" or "equivocal". A result after a
    decisive test (HER2 ISH) overrides the IHC score; otherwise the first
    polarity word wins, then the IHC score's meaning. A number (HER2 IHC score,
    PD-L1 CPS) becomes the value.
    """
    pat = patterns()
    polarity: str | None = None
    ihc: str | None = None
    after_decisive = False
    for m in pat.polarity[rule.concept].finditer(text, start, window_end):
        kind = m.lastgroup
        if kind == "decisive":
            after_decisive = True
        elif kind == "ihc":
            ihc = ihc or m["ihc"]
        elif polarity is None or after_decisive:
            polarity = kind
            if after_decisive:
                break
    if polarity is None and ihc is not None:
        polarity = rule.ihc_scores.get(ihc)
    kinds = pat.score_kinds.get(rule.concept, [])
    number: float | None = float(ihc) if ihc is not None else None
    unit = "IHC" if ihc is not None else None
    comparator = None
    if kinds:
        kind_m = re.search(_alt(kinds), text[start:window_end], re.IGNORECASE)
        num_m = pat.lab_value.match(
            text, start + kind_m.end() if kind_m else end, window_end
        )
        if num_m is not None:
            number = _number(num_m["num"])
            unit = kind_m.group(0).upper() if kind_m else None
            comparator = pat.comparator.get(
                " ".join((num_m["comp"] or "").lower().split())
            )
    if polarity is None and number is None:
        return None
    return MeasuredValue(
        value=number, unit=unit, comparator=comparator, value_as_string=polarity
    )


def stage_value(text: str, start: int, end: int, window_end: int) -> Found | None:
    """ "stage IVB" -> value 4, value_as_string "IVB"."""
    pat = patterns()
    m = pat.stage.match(text, end, window_end)
    if m is None:
        return None
    return Found(
        start,
        m.end(),
        pat.rules.stage_concept,
        MeasuredValue(
            value=float(_score_number(m["r"])),
            value_as_string=text[m.start("r") : m.end()].upper(),
        ),
    )


def treatment_value(
    text: str, start: int, end: int, window_end: int
) -> MeasuredValue | None:
    """Cycles ("s/p 4 cycles of FOLFOX", "CAPOX x 6") or a dose ("aspirin 81 mg",
    "heparin 5000 units BID" = 10000 U/d)."""
    pat = patterns()
    dose = pat.dose.match(text, end, window_end)
    dose_text = text[dose.start("num") : dose.end()] if dose else None
    before = pat.cycles_before.search(text, max(0, start - 40), start)
    after = pat.cycles_after.match(text, end, window_end)
    cycles = before or after
    if cycles is not None:
        return MeasuredValue(
            value=float(cycles["n"]), unit="cycles", value_as_string=dose_text
        )
    if dose is None:
        return None
    # "81 mg daily" is 81 mg/d, "5 mg BID" 10 mg/d: the unit criteria use.
    unit = canonical_unit(dose["unit"]) or dose["unit"]
    amount = _number(dose["num"])
    rules = pat.rules
    if dose["freq"] and unit.lower() in rules.daily_units:
        amount *= rules.doses_per_day[" ".join(dose["freq"].lower().split())]
        unit = rules.daily_units[unit.lower()]
    return MeasuredValue(value=amount, unit=unit, value_as_string=dose_text)


def histology(text: str, start: int, window_end: int) -> str | None:
    """The histology named in a diagnosis' clause ("signet ring cell carcinoma")."""
    m = patterns().histology.search(text, start, window_end)
    return m.group(0).lower() if m else None


def demographics(text: str) -> list[Found]:
    """Age and sex stated in the note: "71-year-old woman", "45 yo F", "Mr.", pronouns.

    Only the note's opening ``scan_chars`` characters are read: notes state
    who the patient is first, and the rest (family and social history) names
    other people. The first age statement there is the patient's; sex comes
    from the word after the age, else a title, else a clear majority of
    third-person pronouns (at least ``min_pronouns``, ``pronoun_ratio`` to one).
    """
    pat = patterns()
    demo = pat.demo
    out: list[Found] = []
    female = {w.lower() for w in demo.female_words}
    sex: Found | None = None
    end = min(len(text), demo.scan_chars)
    m = pat.age.search(text, 0, end)
    if m is not None:
        years = float(m["n"] or m["n2"])
        out.append(
            Found(
                m.start(),
                m.end("suffix") if m["sex"] else m.end(),
                demo.age_concept,
                MeasuredValue(
                    value=years, unit="years", value_as_string=text[m.start() : m.end()]
                ),
            )
        )
        if m["sex"]:
            word = "female" if m["sex"].lower() in female else "male"
            sex = Found(
                m.start("sex"),
                m.end("sex"),
                demo.sex_concept,
                MeasuredValue(value_as_string=word),
            )
    if sex is None:
        t = pat.title.search(text, 0, end)
        if t is not None:
            word = "female" if t["f"] else "male"
            sex = Found(
                t.start(),
                t.end(),
                demo.sex_concept,
                MeasuredValue(value_as_string=word),
            )
    if sex is None:
        found = list(pat.pronoun.finditer(text, 0, end))
        n_f = sum(1 for p in found if p["f"])
        n_m = len(found) - n_f
        for word, mine, other, group in (
            ("female", n_f, n_m, "f"),
            ("male", n_m, n_f, "m"),
        ):
            if mine >= demo.min_pronouns and mine >= demo.pronoun_ratio * other:
                first = next(p for p in found if p[group])
                sex = Found(
                    first.start(),
                    first.end(),
                    demo.sex_concept,
                    MeasuredValue(value_as_string=word),
                )
    if sex is not None:
        out.append(sex)
    return out


def tnm_stages(text: str) -> list[Found]:
    """TNM stage groups written as one word ("pT3N1M1", "T4a N2 M0")."""
    concept = patterns().rules.stage_concept
    out = []
    for m in _TNM.finditer(text):
        prefix = _TNM_PREFIX.search(text, max(0, m.start() - 2), m.start())
        if prefix is not None:
            start = prefix.start()
            out.append(
                Found(
                    start,
                    m.end(),
                    concept,
                    MeasuredValue(value_as_string=text[start : m.end()]),
                )
            )
    return out


def clause_bounds(text: str) -> list[int]:
    """Sorted clause-end offsets of ``text``: line breaks, semicolons and
    sentence-final periods (followed by a space or the end, and not the last
    period of a one-letter abbreviation such as "p.o." or "b.i.d.")."""
    out = []
    for m in _CLAUSE_MARK.finditer(text):
        i = m.start()
        if text[i] == "." and (
            text[i + 1 : i + 2] not in ("", " ", "\n", "\t", "\r")
            or (
                i >= 1
                and text[i - 1].isalpha()
                and (i < 2 or not text[i - 2].isalnum())
            )
        ):
            continue
        out.append(i)
    return out


def _clause(bounds: list[int], pos: int, length: int) -> tuple[int, int]:
    i = bisect.bisect_left(bounds, pos)
    lo = bounds[i - 1] + 1 if i > 0 else 0
    hi = bounds[i] if i < len(bounds) else length
    return lo, hi


def diagnosis_dates(
    text: str, found: list[Found], bounds: list[int], note_date: dt.date | None
) -> list[Found]:
    """Date an undated cancer from the next clause when that clause says when it
    was diagnosed and names no other condition: "pancreatic adenocarcinoma,
    locally advanced. He was diagnosed in July 2026 ..."."""
    pat = patterns()
    vocab = pat.vocab
    classes = pat.rules.diagnosis_classes
    conditions = sorted(f.start for f in found if vocab[f.label].domain == "Condition")
    out = []
    for f in found:
        undated = f.value is None or f.value.event_date is None
        if not undated or not any(vocab.is_a(f.label, c) for c in classes):
            out.append(f)
            continue
        _, end = _clause(bounds, f.end, len(text))
        lo, hi = _clause(bounds, min(end + 1, len(text)), len(text))
        said = pat.diagnosis.search(text, lo, hi)
        between = bisect.bisect_left(conditions, f.end) < len(conditions) and (
            conditions[bisect.bisect_left(conditions, f.end)] < hi
        )
        phrase = date_regex().search(text, said.end(), hi) if said else None
        when = resolve(phrase, note_date) if phrase else None
        if when is None or between:
            out.append(f)
            continue
        out.append(_dated(f, phrase, when, note_date))
    return out


def _dated(
    f: Found, phrase: re.Match[str], when: dt.date | None, note_date: dt.date | None
) -> Found:
    """``f`` with the date ``phrase`` (resolved to ``when``) as its event date."""
    value = dataclasses.replace(
        f.value or MeasuredValue(),
        event_date=when,
        date_text=phrase.group(0),
        past=is_past(phrase, when, note_date),
    )
    return dataclasses.replace(f, value=value)


_TABLE_LINES = 20
_TABLE_LINE_CHARS = 80


def table_header_date(text: str, pos: int) -> re.Match[str] | None:
    """The date in the header of the one-result-per-line table holding ``pos``.

    "LABS (12/08/2026):" over lines "WBC 3.2", "HGB 10.1 g/dL" ... dates each
    result. Walks up short non-blank lines to the nearest line ending in ":".
    """
    start = text.rfind("\n", 0, pos) + 1
    for _ in range(_TABLE_LINES):
        if start == 0:
            return None
        end = start - 1
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].strip()
        if not line or len(line) > _TABLE_LINE_CHARS:
            return None
        if line.endswith(":"):
            return date_regex().search(text, start, end)
    return None


def attach_dates(
    text: str, found: list[Found], bounds: list[int], note_date: dt.date | None
) -> list[Found]:
    """Each mention with the resolved date of the nearest date phrase in its clause.

    A vague phrase ("years ago") is a candidate too, so that a PE "years ago"
    is not given a date stated elsewhere in the sentence; it leaves the date
    unset. ``past`` marks mentions whose date phrase puts them in the past
    (see :func:`pipeline.notes.dates.is_past`). A measurement with no date of
    its own takes the date of its table's header (:func:`table_header_date`).
    """
    pattern = date_regex()
    out = []
    for f in found:
        # Only the mention's neighbourhood is scanned: most of a note is not.
        lo, hi = _clause(bounds, f.start, len(text))
        lo, hi = max(lo, f.start - _WINDOW), min(hi, f.end + _WINDOW)
        best: re.Match[str] | None = None
        best_gap = len(text)
        for p in pattern.finditer(text, lo, hi):
            # A date inside the mention ("Hgb on 11/15/2026 was 7.9") is its own.
            gap = max(p.start() - f.end, f.start - p.end(), 0)
            if gap < best_gap:
                best, best_gap = p, gap
        if best is None and f.value is not None and f.value.value is not None:
            best = table_header_date(text, f.start)
        if best is None:
            out.append(f)
            continue
        out.append(_dated(f, best, resolve(best, note_date), note_date))
    return out


# --- the component ------------------------------------------------------------------

_Handler = Callable[[str, int, int, int], list[Found] | None]


def _handlers(vocab: Vocabulary) -> dict[str, _Handler]:
    """Concept id -> extractor; returning None keeps the mention as it is."""
    pat = patterns()
    rules = pat.rules
    out: dict[str, _Handler] = {}

    def one(found: Found | None) -> list[Found] | None:
        return [found] if found is not None else None

    for lab in rules.labs:
        concept = vocab[lab.concept]
        out[lab.concept] = lambda t, s, e, w, c=concept, r=lab: one(
            lab_value(t, s, e, w, c, r)
        )
    for score in rules.scores:
        out[score.concept] = lambda t, s, e, w, r=score: one(score_value(t, s, e, w, r))
    out[rules.blood_pressure.trigger] = blood_pressure
    out[rules.stage_concept] = lambda t, s, e, w: one(stage_value(t, s, e, w))
    for cid, marker in pat.markers.items():

        def marker_handler(
            t: str, s: int, e: int, w: int, cid: str = cid, rule: MarkerRule = marker
        ) -> list[Found]:
            value = biomarker_value(t, s, e, w, rule)
            if value is None:
                return [Found(s, e, cid, None)]
            # "HER2 negative (IHC 1+)" is a her2 fact and never a her2_positive one.
            found = [Found(s, e, rule.concept, value)]
            if value.value_as_string == "positive" and rule.positive_concept:
                found.append(Found(s, e, rule.positive_concept, value))
            return found

        out[cid] = marker_handler
    for cid, concept in vocab.concepts.items():
        if concept.domain == "Drug":
            out[cid] = lambda t, s, e, w, c=cid: [
                Found(s, e, c, treatment_value(t, s, e, w))
            ]
        elif vocab.is_a(cid, "malignancy"):
            out[cid] = lambda t, s, e, w, c=cid: [
                Found(s, e, c, _histology_value(t, s, w))
            ]
    return out


def _histology_value(text: str, start: int, window_end: int) -> MeasuredValue | None:
    found = histology(text, start, window_end)
    return MeasuredValue(value_as_string=found) if found else None


# Concepts that exist only to carry a value: a bare trigger is no fact.
def _value_only(pat: Patterns) -> frozenset[str]:
    rules = pat.rules
    return frozenset(
        {
            rules.blood_pressure.trigger,
            rules.stage_concept,
            pat.demo.age_concept,
            pat.demo.sex_concept,
        }
    )


def find_values(
    text: str,
    mentions: list[tuple[int, int, str]],
    note_date: dt.date | None = None,
) -> list[Found]:
    """Every mention of ``text`` with its value, given its concept mentions.

    ``mentions`` are ``(start, end, concept_id)`` sorted by start. Plain
    mentions come back unchanged (value None unless a date was found), value
    triggers with their values, plus the text-wide age, sex and TNM finds.
    """
    pat = patterns()
    handlers = _handler_table()
    value_only = _value_only(pat)
    bounds = clause_bounds(text)
    starts = [m[0] for m in mentions]
    found: list[Found] = []
    for start, end, cid in mentions:
        _, clause_end = _clause(bounds, end, len(text))
        j = bisect.bisect_left(starts, end)
        next_start = starts[j] if j < len(starts) else len(text)
        window_end = min(clause_end, next_start, end + _WINDOW)
        handler = handlers.get(cid)
        result = handler(text, start, end, window_end) if handler else None
        if result is None:
            result = [Found(start, end, cid, None)]
        found += [f for f in result if f.value is not None or f.label not in value_only]
    found = drop_restated(text, share_across_lists(text, found))
    found += coordinated_sites(text, found)
    people = demographics(text)
    covered = {f.label for f in people}
    found = [f for f in found if f.label not in covered] + tnm_stages(text)
    # Age and sex are the patient's now, whatever date their sentence names.
    dated = attach_dates(text, found, bounds, note_date)
    return diagnosis_dates(text, dated, bounds, note_date) + people


def share_across_lists(text: str, found: list[Found]) -> list[Found]:
    """Spread a value written once after a coordinated list to its members.

    "gemcitabine and cisplatin x 8 cycles": both drugs had 8 cycles; "KRAS and
    NRAS wild-type": both are negative. Only a member with no value of its own
    that is joined to the next member by coordinators alone inherits, right to
    left so that longer lists pass the value along.
    """
    pat = patterns()
    vocab = pat.vocab
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        if a.value is not None or b.value is None or a.end > b.start:
            continue
        drugs = vocab[a.label].domain == "Drug" == vocab[b.label].domain
        shared: MeasuredValue | None = None
        if drugs and b.value.unit == "cycles":
            shared = MeasuredValue(value=b.value.value, unit="cycles")
        elif a.label == b.label and a.label in pat.markers:
            shared = MeasuredValue(value_as_string=b.value.value_as_string)
        if shared is not None and pat.coordination.fullmatch(text, a.end, b.start):
            out[i] = dataclasses.replace(a, value=shared)
    return out


def coordinated_sites(text: str, found: list[Found]) -> list[Found]:
    """Metastatic sites listed before one metastasis term: "liver and lung
    metastases" is also a liver metastasis, "bone, liver and lung mets" two more."""
    pat = patterns()
    sites = pat.rules.metastasis_sites
    targets = set(sites.values())
    out: list[Found] = []
    for f in found:
        if f.label not in targets:
            continue
        lo = max(0, f.start - _WINDOW)
        listed = pat.site_list.search(text, lo, f.start)
        if listed is None:
            continue
        for m in pat.site.finditer(text, listed.start(), f.start):
            concept = sites[" ".join(m.group(0).lower().split())]
            if concept != f.label:
                out.append(Found(m.start(), m.end(), concept, None))
    return out


def drop_restated(text: str, found: list[Found]) -> list[Found]:
    """Drop a bare trigger that the next mention restates with a value.

    "PERFORMANCE STATUS: ECOG 1" is one ECOG fact, not a valueless one plus
    a valued one.
    """
    link = patterns().link
    following: list[Found | None] = [*found[1:], None]
    return [
        a
        for a, b in zip(found, following[: len(found)], strict=True)
        if not (
            b is not None
            and a.value is None
            and b.value is not None
            and a.label == b.label
            and a.end <= b.start
            and link.fullmatch(text, a.end, b.start)
        )
    ]


@cache
def _handler_table() -> dict[str, _Handler]:
    return _handlers(load_vocabulary())


def tag_measurements(doc: Doc) -> Doc:
    """Replace ``doc.spans["mentions"]`` by the mentions with their values attached."""
    mentions = sorted(
        doc.spans.get("mentions", []),
        key=lambda s: (s.start_char, -s.end_char),
    )
    found = find_values(
        note_text(doc),
        [(s.start_char, s.end_char, s.label_) for s in mentions],
        doc._.note_date,
    )
    spans = []
    values: dict[tuple[int, int, str], MeasuredValue] = {}
    # Most mentions come back as they were; only new extents need new Spans.
    same = {(s.start_char, s.end_char, s.label_): s for s in mentions}
    for f in found:
        span = same.get((f.start, f.end, f.label)) or doc.char_span(
            f.start, f.end, label=f.label, alignment_mode="expand"
        )
        if span is None:
            continue
        if f.value is not None:
            values[(span.start_char, span.end_char, f.label)] = f.value
        spans.append(span)
    doc._.measured_values = values
    doc.spans["mentions"] = spans
    return doc


class MeasurementTagger:
    """The ``trialmatch_measurements`` component (:func:`tag_measurements`)."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        patterns()
        _handler_table()

    def __call__(self, doc: Doc) -> Doc:
        return tag_measurements(doc)


@Language.factory("trialmatch_measurements")
def make_measurements(nlp: Language, name: str) -> MeasurementTagger:
    """Factory of the ``trialmatch_measurements`` component."""
    return MeasurementTagger(nlp, name)
