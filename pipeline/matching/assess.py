"""Criterion-level assessment: one patient's facts against one criterion, with evidence.

A trial is compiled once (:func:`compile_trial`): each entity's concept id is
expanded to every vocabulary concept that ``is_a`` it (a criterion naming
"anticoagulant" then finds "apixaban"), and value limits are resolved to concept
ids. :func:`assess` then decides each criterion for one person.

Reading rules, in the spirit of ConText (Harkema et al. 2009):

* negated, family and hypothetical mentions are never evidence of presence; a
  negated mention is evidence of absence (and so meets "No previous X");
* an uncertain mention makes the criterion ``unknown`` with the evidence attached;
* an affirmed mention followed by a later negation is conflicting: ``unknown``;
* the latest value of a measurement wins, within the criterion's time window;
* time windows are measured from the as-of date to the event date (else the
  note date); an undated historical mention cannot be placed in a window;
* closed world, as a screener reads a chart: an exclusion nothing in the notes
  bears on is ``not_met``, and "No previous X" with no X anywhere is ``met``; an
  inclusion is never failed by silence (an unmentioned concept or an unmeasured
  value leaves it ``unknown``).

Entities of one criterion combine by role: in an inclusion every named concept
group must be present; in an exclusion the conditions/procedures are
alternatives and drug or biomarker entities beside them qualify them
("HER2-positive gastric adenocarcinoma", "ILD requiring steroid therapy").
When an exclusion gives value limits and names one condition, the limits decide
("hypertension ... SBP >= 150 mmHg": a controlled hypertensive is not excluded);
with several named conditions, conditions and limits are alternatives.
Entities after "no", "unable to", "refusal" ... ask for an absence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from math import inf
from operator import attrgetter
from typing import TypeVar

from pydantic import BaseModel

from pipeline.matching.facts import Fact, PersonFacts
from pipeline.matching.rules import ImpliedValue, load_rules
from pipeline.schema import (
    Criterion,
    CriterionAssessment,
    Evidence,
    Sex,
    Status,
    Trial,
    ValueConstraint,
)
from pipeline.units import convert
from pipeline.vocabulary import Vocabulary, load_vocabulary

_ULN_RE = re.compile(r"ULN\s*[:=]?\s*(\d+(?:\.\d+)?)", re.I)


# --- compiled criteria ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConceptGroup:
    """Entities that name one thing: a concept and every concept that is_a it."""

    label: str
    concepts: frozenset[str]
    domain: str
    root: str
    absent: bool = False
    # Named of a relative ("a parent diagnosed with bipolar disorder"): met by
    # the notes' family-history mentions, not by the patient's own.
    family: bool = False


@dataclass(frozen=True, slots=True)
class Limit:
    """A value constraint with its measure resolved to vocabulary concepts."""

    constraint: ValueConstraint
    concepts: frozenset[str]
    label: str
    measure: str
    counted: bool
    # Findings whose definition bounds the measure, by concept (members of
    # the rules' findings included): their concepts are among ``concepts``.
    implied: tuple[tuple[str, ImpliedValue], ...] = ()


@dataclass(frozen=True, slots=True)
class Allowance:
    """A criterion exception: these concepts, within these limits, do not count."""

    concepts: frozenset[str]
    limits: tuple[ValueConstraint, ...]
    text: str
    # Per limit, the concepts its measure names (a dose limit's drug class).
    measured: tuple[frozenset[str], ...]


@dataclass(slots=True)
class Compiled:
    """A criterion ready to be assessed against any number of patients."""

    criterion: Criterion
    groups: list[ConceptGroup]
    qualifiers: list[ConceptGroup]
    excluding: list[ConceptGroup]
    allowances: list[Allowance]
    limits: list[Limit]
    window_days: float | None
    window_text: str | None
    female_only: bool
    male_only: bool
    # An inclusion that names both sexes ("Both genders are eligible", "Male
    # or female"): met by any patient when it names nothing else.
    either_sex: bool
    # An inclusion met by the absence of what it names (:func:`asks_absence`).
    flipped: bool
    # An inclusion describing patients of one sex ("Female patients aged 18
    # to 75"): not met by a patient of the other.
    admits_sex: str | None
    # Set when the criterion is about women of childbearing potential: the
    # states that put a woman outside it ("postmenopausal").
    not_childbearing: ConceptGroup | None
    current_only: bool
    unmapped: list[str]
    children: list[Compiled] = field(default_factory=list)
    concepts: frozenset[str] = frozenset()
    silent: dict[tuple, tuple[Part, list[CriterionAssessment]]] = field(
        default_factory=dict
    )
    bare: dict[tuple[Status, str], CriterionAssessment] = field(default_factory=dict)
    # Parts of a group or limit the patient's notes never mention, by what
    # they then depend on (see :func:`_presence` and :func:`_check_limit`).
    quiet: dict[tuple, Part] = field(default_factory=dict)
    # The fields every record of this criterion starts with.
    head: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        crit = self.criterion
        self.head = {"criterion_id": crit.id, "kind": crit.kind, "text": crit.text}

    @property
    def id(self) -> str:
        return self.criterion.id


def _members(vocab: Vocabulary, cid: str) -> frozenset[str]:
    return frozenset(c for c in vocab.concepts if vocab.is_a(c, cid)) | {cid}


def _implied(
    vocab: Vocabulary, measured: frozenset[str]
) -> tuple[tuple[str, ImpliedValue], ...]:
    """The findings that bound one of ``measured`` (the rules' implied values)."""
    return tuple(
        (finding, iv)
        for iv in load_rules().implied_values
        if iv.measure in measured
        for finding in sorted(_members(vocab, iv.finding))
    )


@cache
def _term_index() -> dict[str, str]:
    return {term.lower(): concept.id for term, concept in load_vocabulary().terms()}


@cache
def _spelling() -> dict[str, str]:
    return {term.lower(): term for term, _ in load_vocabulary().terms()}


def _label(text: str) -> str:
    """Criterion words as a rationale reads them mid-sentence: the vocabulary's
    spelling when they are one of its terms ("Life expectancy" at the start of
    a criterion reads "life expectancy"; "ECOG" stays), else as written."""
    return _spelling().get(text.lower(), text)


def _measure_concept(measure: str) -> str:
    vocab = load_vocabulary()
    if measure in vocab:
        return measure
    return _term_index().get(measure.lower().strip(), measure)


def _groups(
    vocab: Vocabulary,
    entities: list,
    skip: set[str],
    absent: frozenset[str] = frozenset(),
    family: frozenset[str] = frozenset(),
) -> list[ConceptGroup]:
    """Cluster entities whose concepts are related by is_a into one group.

    Concepts in ``absent`` are asked to be absent ("no informed consent",
    "unable to give consent") and concepts in ``family`` of a relative ("a
    parent diagnosed with bipolar disorder"); each forms a group of its own.
    """
    rules = load_rules()
    groups: list[ConceptGroup] = []
    for ent in entities:
        cid = ent.concept_id
        if cid is None or cid in skip:
            continue
        # The vocabulary's domain decides, not the tagger's: "HER2-positive"
        # is a finding whether the NER calls it Measurement or Qualifier.
        domain = vocab[cid].domain if cid in vocab else ent.domain
        if domain in rules.ignored_domains:
            continue
        members = _members(vocab, cid)
        if cid in absent or cid in family:
            # An absence names its concept, not the words asking for it: "non
            # smoker" asks for no tobacco smoking.
            named = cid in vocab and cid not in family
            label = vocab[cid].name if named else ent.text
            groups.append(
                ConceptGroup(
                    _label(label),
                    members,
                    domain,
                    cid,
                    absent=cid in absent,
                    family=cid in family,
                )
            )
            continue
        for i, group in enumerate(groups):
            if group.absent or group.family:
                continue
            if cid in group.concepts or group.concepts & members == group.concepts:
                inside = cid in group.concepts
                groups[i] = ConceptGroup(
                    group.label if inside else _label(ent.text),
                    group.concepts | members,
                    domain,
                    group.root if inside else cid,
                )
                break
        else:
            groups.append(ConceptGroup(_label(ent.text), members, domain, cid))
    return groups


def _has_word(text: str, words: list[str]) -> bool:
    lowered = f" {re.sub(r'[^a-z]+', ' ', text.lower())} "
    return any(f" {w} " in lowered for w in words)


def _preceded_by(
    criterion: Criterion, triggers: list[str], words: int
) -> frozenset[str]:
    """Concepts whose mention follows one of ``triggers`` within ``words`` words.

    "other primary malignancies" -> other; "unable to give written informed
    consent" -> absence. Only the few words before each entity count, so
    "other non-malignant organs ... or cancers" does not make "cancers" other.
    An entity that begins before its concept's term ("Refusal to sign the
    consent") counts its own leading words too; with ``words`` 0 only those
    count ("non smoker").
    """
    vocab = load_vocabulary()
    out = set()
    for ent in criterion.entities:
        rel = ent.start - criterion.start
        if ent.concept_id is None or not 0 <= rel <= len(criterion.text):
            continue
        before = criterion.text[:rel].split()[-words:] if words else []
        lowered = ent.text.lower()
        terms = vocab[ent.concept_id].terms if ent.concept_id in vocab else []
        at = min((i for t in terms if (i := lowered.find(t.lower())) > 0), default=0)
        if _has_word(" ".join([*before, ent.text[:at]]), triggers):
            out.add(ent.concept_id)
    return frozenset(out)


def _population(
    groups: list[ConceptGroup], trial_named: frozenset[str]
) -> list[ConceptGroup]:
    """The groups that name the trial's own population, not a reason to exclude.

    "Active bleeding ... of primary and/or metastatic lesions": the metastatic
    lesions locate the bleeding. A group is population when its concept is
    listed in the rules or is (a class of) a concept the inclusions ask for.
    """
    vocab = load_vocabulary()
    listed = set(load_rules().population_concepts)
    return [
        g
        for g in groups
        if g.root in listed
        or any(t in vocab and vocab.is_a(t, g.root) for t in trial_named)
    ]


def _count_limits(criterion: Criterion, groups: list[ConceptGroup]) -> list[Limit]:
    """Limits read from a quantifier over a drug class ("two or more X drugs")."""
    text = criterion.text.lower()
    counts = load_rules().count_phrases
    n = next((counts[p] for p in counts if p in text), None)
    if n is None:
        return []
    return [
        Limit(
            ValueConstraint(
                measure=g.root,
                measure_text=g.label,
                comparator=">=",
                value=n,
                start=criterion.start,
                end=criterion.end,
            ),
            g.concepts,
            g.label,
            g.root,
            True,
        )
        for g in groups
        if g.domain == "Drug"
    ]


def compile_criterion(
    criterion: Criterion,
    inherited_window: tuple[float, str] | None = None,
    trial_concepts: frozenset[str] = frozenset(),
    trial_named: frozenset[str] = frozenset(),
) -> Compiled:
    """Resolve a criterion's entities, limits and exceptions to concept sets.

    ``trial_concepts`` are the concepts the trial's inclusions ask for (with
    their members and classes), ``trial_named`` the ones they name. A concept
    an exclusion calls "other" (other primary malignancies) does not count the
    trial's concepts; any other concept naming the trial's own population is
    dropped from the exclusion (:func:`_population`). An exception that only
    restates the criterion's own class ("complete remission of malignant tumors for at
    least 2 years") cannot be checked from a mention and excuses nothing.
    """
    vocab = load_vocabulary()
    rules = load_rules()
    others = (
        _preceded_by(criterion, rules.other_triggers, 3)
        if criterion.kind == "exclusion"
        else frozenset()
    )
    # An inclusion asking for an absence ("No previous X") is flipped when it
    # is assessed; an exclusion negated as a whole ("No written consent") asks
    # for the absence of what it names.
    flipped = asks_absence(criterion)
    if flipped:
        absent: frozenset[str] = frozenset()
    elif criterion.negated:
        absent = frozenset(e.concept_id for e in criterion.entities if e.concept_id)
    else:
        absent = (
            frozenset(e.concept_id for e in criterion.entities if e.negated)
            | _preceded_by(criterion, rules.absence_triggers, 5)
            | _preceded_by(criterion, rules.absence_prefixes, 0)
        )
    # A duration after the study ("for 3 months after study is stopped") is
    # not a look-back window over the notes; time elapsed since the last dose
    # of a prior treatment is one.
    lookback = [
        w
        for w in criterion.time_windows
        if w.minimum or w.anchor not in rules.lookahead_anchors
    ]
    window = (lookback[0].days, lookback[0].text) if lookback else inherited_window
    limits = []
    for vc in criterion.values:
        cid = _measure_concept(vc.measure)
        # A unitless limit on a class that is not a measurement counts its
        # members ("two or more antihypertensive drugs"); with a unit it is a
        # quantity ("weight gain of 7 % on an antipsychotic"), not a count.
        counted = (
            cid in vocab and vocab[cid].domain != "Measurement" and vc.unit is None
        )
        label = _label(vc.measure_text or vc.measure)
        measured = _members(vocab, cid)
        implied = () if counted else _implied(vocab, measured)
        concepts = measured.union(finding for finding, _ in implied)
        limits.append(Limit(vc, concepts, label, cid, counted, implied))
    limit_concepts = {cid for lim in limits for cid in lim.concepts}
    family = _preceded_by(criterion, rules.family_triggers, 5)
    context = (
        _preceded_by(criterion, rules.purpose_triggers, 2) if flipped else frozenset()
    )
    groups = _groups(
        vocab, criterion.entities, limit_concepts | context, absent, family
    )
    qualifiers: list[ConceptGroup] = []
    if criterion.kind == "exclusion":
        own = _population([g for g in groups if g.root not in others], trial_named)
        groups = [
            ConceptGroup(g.label, g.concepts - trial_concepts, g.domain, g.root)
            if g.root in others
            else g
            for g in groups
            if g not in own
        ]
        groups = [g for g in groups if g.concepts]
        if not limits:
            limits = _count_limits(criterion, groups)
            counted = {c for lim in limits for c in lim.concepts}
            groups = [g for g in groups if not g.concepts <= counted]
            limit_concepts = counted
        primary = [g for g in groups if g.domain in rules.primary_domains]
        if primary:
            qualifiers = [
                g
                for g in groups
                if g.domain in rules.qualifier_domains and not g.absent
            ]
            groups = [g for g in groups if g not in qualifiers]
    allowances = [
        Allowance(
            frozenset().union(
                *(_members(vocab, e.concept_id) for e in exc.entities if e.concept_id)
            ),
            tuple(exc.values),
            exc.text,
            tuple(_members(vocab, _measure_concept(vc.measure)) for vc in exc.values),
        )
        for exc in criterion.exceptions
    ]
    roots = {g.root for g in groups}
    allowances = [a for a in allowances if a.limits or not roots & a.concepts]
    named = {c for g in groups + qualifiers for c in g.concepts}
    sexed = named or {c for lim in limits for c in lim.concepts}
    subject = _subject_sex(criterion.text)
    not_childbearing = _not_childbearing(vocab, named)
    female_named = bool(sexed) and sexed <= _sex_concepts("female")
    male_named = bool(sexed) and sexed <= _sex_concepts("male")
    admits_sex: str | None = None
    if (
        subject is not None
        and not (female_named or male_named or not_childbearing)
        and _describes_patients(criterion)
    ):
        admits_sex, subject = subject, None
    female_only = female_named or subject == "female"
    male_only = male_named or subject == "male"
    compiled = Compiled(
        criterion=criterion,
        groups=groups,
        qualifiers=qualifiers,
        # An excluded type that is a class of the criterion's own concept
        # ("other malignant tumors" beside "gastrointestinal tumors") cannot be
        # meant literally: it would exclude every patient the criterion admits.
        excluding=[
            g
            for g in _groups(vocab, criterion.excluding, set())
            if not any(vocab.is_a(own.root, g.root) for own in groups)
        ],
        allowances=allowances,
        limits=limits,
        window_days=window[0] if window else None,
        window_text=window[1] if window else None,
        unmapped=[
            e.text
            for e in criterion.entities
            if e.concept_id is None and e.domain in [*rules.primary_domains, "Drug"]
        ],
        current_only=window is None
        and _has_word(criterion.text, rules.current_triggers),
        female_only=female_only,
        male_only=male_only,
        either_sex=criterion.kind == "inclusion"
        and not (female_only or male_only)
        and _names_either_sex(criterion),
        flipped=flipped,
        admits_sex=admits_sex,
        not_childbearing=not_childbearing,
        children=[
            compile_criterion(c, window, trial_concepts, trial_named)
            for c in criterion.sub_criteria
        ],
    )
    compiled.concepts = frozenset(
        named
        | limit_concepts
        | (compiled.not_childbearing.concepts if compiled.not_childbearing else set())
        | {c for g in compiled.excluding for c in g.concepts}
        | {c for child in compiled.children for c in child.concepts}
    )
    return compiled


def _not_childbearing(vocab: Vocabulary, named: set[str]) -> ConceptGroup | None:
    """The group of states outside childbearing potential, for a criterion
    that names childbearing potential ("Women of childbearing potential should
    agree to contraception"); None for any other criterion."""
    rules = load_rules()
    if named.isdisjoint(rules.childbearing_concepts):
        return None
    cids = [c for c in rules.not_childbearing_concepts if c in vocab]
    if not cids:
        return None
    return ConceptGroup(
        " or ".join(vocab[c].name for c in cids),
        frozenset().union(*(_members(vocab, c) for c in cids)),
        "Observation",
        cids[0],
    )


def _words(text: str) -> list[str]:
    # Words of two letters or more: "F-18 FDG" or "M1 disease" name no sex.
    return re.findall(r"[a-z]{2,}", text.lower())


def _sexes_named(words: Iterable[str]) -> set[str]:
    """The sexes whose words (``male_words`` / ``female_words``) are among ``words``."""
    rules = load_rules()
    found = set(words)
    lexicons = (("male", rules.male_words), ("female", rules.female_words))
    return {sex for sex, lexicon in lexicons if not found.isdisjoint(lexicon)}


def _subject_sex(text: str) -> str | None:
    """The one sex a criterion's opening words name ("Man participants should
    agree to ...", "Women who ..."), or None ("Men and women ...", no sex)."""
    sexes = _sexes_named(_words(text)[:5])
    return sexes.pop() if len(sexes) == 1 else None


def _describes_patients(criterion: Criterion) -> bool:
    """A top-level inclusion opening with a sex ("Female patients aged 18 to
    75", "Men only") that obliges nothing: it says whom the trial admits.
    "Women of childbearing potential should agree ...", "For women: a negative
    pregnancy test" and a sub-criterion "Women: ..." say to whom a
    requirement applies."""
    return (
        criterion.kind == "inclusion"
        and criterion.parent_id is None
        and not criterion.negated
        and bool(_sexes_named(_words(criterion.text)[:1]))
        and not _has_word(criterion.text, load_rules().obligation_words)
    )


def asks_absence(criterion: Criterion) -> bool:
    """An inclusion met by the absence of what it names: negated as a whole
    ("No previous systemic treatment"), or asking for a least time elapsed
    since it ("At least 4 weeks since prior chemotherapy": none within 4
    weeks, an earlier one or none at all)."""
    if criterion.kind != "inclusion":
        return False
    return criterion.negated or any(w.minimum for w in criterion.time_windows)


def _names_either_sex(criterion: Criterion) -> bool:
    """Whether the criterion names both sexes, as words ("Male or female") or
    as the concept of sex itself ("Both genders are eligible")."""
    if len(_sexes_named(_words(criterion.text))) == 2:
        return True
    sex_concepts = load_rules().sex_concepts
    return any(e.concept_id in sex_concepts for e in criterion.entities)


@cache
def _sex_concepts(sex: str) -> frozenset[str]:
    vocab = load_vocabulary()
    rules = load_rules()
    base = rules.female_only_concepts if sex == "female" else rules.male_only_concepts
    return frozenset().union(*(_members(vocab, c) for c in base if c in vocab))


def trial_population(
    criteria: Iterable[Criterion],
) -> tuple[frozenset[str], frozenset[str]]:
    """The trial's own population, as ``compile_criterion`` takes it.

    Returns (wanted, named): the concepts its inclusions name, with their
    members and the classes above them (a note's "tumor" is the trial's
    cancer, not another), and the named concepts alone.
    """
    named = frozenset(
        ent.concept_id
        for crit in criteria
        if crit.kind == "inclusion" and not asks_absence(crit)
        for ent in crit.entities
        if ent.concept_id
    )
    vocab = load_vocabulary()
    wanted = frozenset(
        c for cid in named for c in _members(vocab, cid) | vocab.ancestors(cid)
    )
    return wanted, named


def compile_trial(trial: Trial) -> list[Compiled]:
    """Every top-level criterion of ``trial`` compiled, in listing order."""
    wanted, named = trial_population(trial.all_criteria())
    return [compile_criterion(c, None, wanted, named) for c in trial.criteria]


# --- the patient ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Patient:
    """What assessment needs to know about the person besides the note facts."""

    person_id: str
    sex: Sex | None
    age_years: float | None
    as_of: dt.date
    age_source: str = "person table"


# --- small results --------------------------------------------------------------


@dataclass(slots=True)
class Part:
    """The outcome of one piece of a criterion (a concept group or a value limit)."""

    status: Status
    sentence: str
    # Tuples by default: parts are never mutated, and a shared empty tuple
    # spares a list per part (assessment makes tens of parts per patient).
    evidence: Sequence[Fact] = ()
    possible: bool = False
    absent: Sequence[str] = ()
    n_notes: int = 0


def _d(day: dt.date | None) -> str:
    return _iso(day) if day else "an undated note"


@cache
def _iso(day: dt.date) -> str:
    # Cached: rationales name a few hundred distinct dates over and over, and
    # date.isoformat formats each of its numbers through C's sprintf.
    return day.isoformat()


def _num(x: float) -> str:
    return f"{x:g}"


def _in_window(fact: Fact, c: Compiled, as_of: dt.date) -> bool | None:
    """Whether the fact falls inside the window; None when it cannot be dated."""
    if c.window_days is None:
        return True
    if fact.event_date is None and fact.historical:
        return None
    when = fact.when
    if when is None:
        return None
    return (as_of - when).days <= c.window_days


def _allowed(fact: Fact, c: Compiled) -> Allowance | None:
    """The exception that excuses ``fact`` (low-dose aspirin ≤ 100 mg/d), if any."""
    for allowance in c.allowances:
        if fact.concept_id not in allowance.concepts:
            continue
        doses = [
            vc
            for vc, measured in zip(allowance.limits, allowance.measured, strict=True)
            if fact.concept_id in measured or _dose_value(fact, vc) is not None
        ]
        if not doses:
            return allowance
        if all(_satisfies(_dose_value(fact, vc), vc) for vc in doses):
            return allowance
    return None


def _dose_value(fact: Fact, vc: ValueConstraint) -> float | None:
    if fact.value is None or fact.unit is None or vc.unit is None:
        return None
    unit = fact.unit
    # A dose written per administration ("aspirin 81 mg") is read as once daily.
    per_dose = load_rules().per_dose_units
    if unit in per_dose and per_dose[unit] == vc.unit:
        unit = vc.unit
    return convert(fact.value, unit, vc.unit, vc.measure)


def _satisfies(value: float | None, vc: ValueConstraint) -> bool:
    if value is None:
        return False
    eps = 1e-9
    match vc.comparator:
        case "<":
            return value < vc.value - eps
        case "<=":
            return value <= vc.value + eps
        case "=":
            return abs(value - vc.value) <= eps
        case ">=":
            return value >= vc.value - eps
        case ">":
            return value > vc.value + eps
        case "between":
            high = vc.value_high if vc.value_high is not None else vc.value
            return vc.value - eps <= value <= high + eps
    return False


def _facts_for(pf: PersonFacts, concepts: frozenset[str]) -> Sequence[Fact]:
    """The person's facts of ``concepts``, in the notes' order (read-only)."""
    keys = pf.concept_keys & concepts
    if len(keys) == 1:
        # Most lookups hit one concept: its list as it stands, uncopied.
        (key,) = keys
        return pf.by_concept[key]
    # In the notes' order: iterating a set of concept ids would order evidence
    # by string hash, which changes from one process to the next.
    found: list[Fact] = []
    for k, facts in pf.by_concept.items():
        if k in keys:
            found.extend(facts)
    return found


def _presence(
    group: ConceptGroup, c: Compiled, pf: PersonFacts, as_of: dt.date
) -> Part:
    """Presence of the group's concept, or of its absence for an absence group.

    An absence group ("no informed consent") is met by a negated mention and
    failed by an affirmed one; silence meets it in an inclusion (closed world,
    as for "No previous X") and leaves it unknown in an exclusion.
    """
    if group.concepts.isdisjoint(pf.concept_keys):
        # Unmentioned: the part depends on the note count alone, and parts are
        # never mutated, so one is shared by every patient with that count.
        key = (id(group), pf.n_notes)
        part = c.quiet.get(key)
        if part is None:
            part = c.quiet[key] = _absent_part(
                group, c, Part("not_met", "", absent=[group.label], n_notes=pf.n_notes)
            )
        return part
    return _absent_part(group, c, _present(group, c, pf, as_of))


def _absent_part(group: ConceptGroup, c: Compiled, part: Part) -> Part:
    """A presence part read for an absence group ("no informed consent")."""
    if not group.absent:
        return part
    if part.status in ("met", "not_met") and part.evidence:
        return _flip(part)
    if part.status == "not_met":
        status = "met" if c.criterion.kind == "inclusion" else "unknown"
        return Part(status, "", absent=part.absent, n_notes=part.n_notes)
    return part


def _present(group: ConceptGroup, c: Compiled, pf: PersonFacts, as_of: dt.date) -> Part:
    """Is the group's concept present for the patient (within the window)?

    ``met`` = present on affirmed evidence, ``not_met`` = negated or never
    mentioned (closed world) or only outside the window, ``unknown`` =
    uncertain, conflicting or undatable; ``possible`` flags uncertain/conflicting.
    """
    affirmed, negated, uncertain, outside, undated, excused = [], [], [], [], [], []
    for f in _facts_for(pf, group.concepts):
        if not (f.about_relative if group.family else f.about_patient):
            continue
        if c.current_only and f.historical and not f.negated:
            continue
        inside = _in_window(f, c, as_of)
        if f.negated:
            # A negation dated outside the window says nothing about it.
            if inside is not False:
                negated.append(f)
            continue
        if inside is None:
            undated.append(f)
        elif not inside:
            outside.append(f)
        elif _allowed(f, c) is not None:
            excused.append(f)
        elif f.uncertain:
            uncertain.append(f)
        else:
            affirmed.append(f)
    if affirmed:
        last = max(affirmed, key=_when_key)
        neg = max(negated, key=_when_key, default=None)
        if neg is not None and _when_key(neg) > _when_key(last):
            return Part(
                "unknown",
                f"{last.lexical_variant} on {_d(last.when)} is contradicted by "
                f"a negation on {_d(neg.when)}",
                [last, neg],
                possible=True,
            )
        counts_as = (
            ""
            if last.lexical_variant.lower() == group.label.lower()
            else f", which counts as {group.label},"
        )
        return Part(
            "met",
            f"{last.lexical_variant}{counts_as} documented on {_d(last.when)}"
            + _window_phrase(last, c, as_of),
            [last],
        )
    if uncertain:
        last = max(uncertain, key=_when_key)
        return Part(
            "unknown",
            f"{last.lexical_variant} is only suspected ({_d(last.when)})",
            [last],
            possible=True,
        )
    if undated:
        last = max(undated, key=_when_key)
        return Part(
            "unknown",
            f"{last.lexical_variant} is mentioned as history without a date, so "
            f"it cannot be placed within {c.window_text}",
            [last],
        )
    if excused:
        f = excused[0]
        allowance = _allowed(f, c)
        text = allowance.text if allowance else "the exception"
        return Part("not_met", f"{f.snippet.strip()} is allowed ({text})", [f])
    if outside:
        last = max(outside, key=_when_key)
        days = (as_of - last.when).days if last.when else 0
        return Part(
            "not_met",
            f"{last.lexical_variant} on {_d(last.when)} is {days} days before "
            f"{_iso(as_of)}, outside the window ({c.window_text})",
            [last],
        )
    if not negated:
        # Never mentioned, or only negations dated outside the window.
        return Part("not_met", "", absent=[group.label], n_notes=pf.n_notes)
    last = max(negated, key=_when_key)
    return Part(
        "not_met", f"{last.lexical_variant} is negated ({_d(last.when)})", [last]
    )


def _when_key(f: Fact) -> tuple[dt.date, int]:
    return (f.when or dt.date.min, f.start)


def _window_phrase(f: Fact, c: Compiled, as_of: dt.date) -> str:
    if c.window_days is None or f.when is None:
        return ""
    return f", {(as_of - f.when).days} days before {_iso(as_of)} ({c.window_text})"


def _limit_value(lim: Limit, f: Fact) -> tuple[float | None, str]:
    """The fact's value in the limit's unit and a phrase showing the reading."""
    vc = lim.constraint
    shown = f"{_num(f.value)} {f.unit}" if f.unit else _num(f.value)
    if vc.unit is None or f.unit == vc.unit:
        return f.value, shown
    if vc.unit == "xULN":
        match = _ULN_RE.search(f.value_string or "")
        if match and float(match.group(1)) > 0:
            ratio = f.value / float(match.group(1))
            return ratio, f"{shown} ({ratio:.2g} × ULN)"
        return None, f"{shown} without its upper limit of normal"
    unit = f.unit
    if unit is None:
        vocab = load_vocabulary()
        unit = vocab[f.concept_id].unit if f.concept_id in vocab else None
        if unit is None or unit == vc.unit:
            return f.value, shown
    value = convert(f.value, unit, vc.unit, _measure_concept(vc.measure))
    if value is None:
        return None, f"{shown} (no conversion to {vc.unit})"
    return value, f"{shown} ({_num(round(value, 3))} {vc.unit})"


def _limit_text(vc: ValueConstraint, satisfied: bool) -> str:
    return _limit_phrase(vc.comparator, vc.value, vc.value_high, vc.unit, satisfied)


@cache
def _limit_phrase(
    comparator: str,
    value: float,
    value_high: float | None,
    unit: str | None,
    satisfied: bool,
) -> str:
    # Cached: a trial has a few limits, and each phrase is read per patient.
    words = load_rules().comparator_words[comparator]
    unit_text = f" {unit}" if unit else ""
    word = words[0] if satisfied else words[1]
    if comparator == "between":
        return f"{word} {_num(value)}–{_num(value_high or value)}{unit_text}"
    return f"{word} {_num(value)}{unit_text}"


def _check_limit(lim: Limit, c: Compiled, pf: PersonFacts, patient: Patient) -> Part:
    """The latest value of the measure (within the window) against the limit.

    ``met`` means the patient's value satisfies the constraint as written.
    """
    if not lim.concepts.isdisjoint(pf.concept_keys):
        return _limit_part(lim, c, pf, patient)
    # Unmeasured: the part depends on the patient's sex, age and note count
    # alone, so one is shared by every patient alike in these.
    key = (
        id(lim),
        patient.sex,
        patient.age_years,
        patient.age_source,
        patient.as_of,
        pf.n_notes,
    )
    part = c.quiet.get(key)
    if part is None:
        part = c.quiet[key] = _limit_part(lim, c, pf, patient)
    return part


def _limit_part(lim: Limit, c: Compiled, pf: PersonFacts, patient: Patient) -> Part:
    vc = lim.constraint
    if vc.sex is not None and patient.sex is not None and vc.sex != patient.sex:
        return Part(
            "not_applicable",
            f"the {vc.sex}-only limit on {lim.label} "
            f"does not apply to a {patient.sex} patient",
        )
    if "age" in lim.concepts and patient.age_years is not None:
        ok = _satisfies(patient.age_years, vc)
        return Part(
            "met" if ok else "not_met",
            f"Age {patient.age_years:g} years on {patient.as_of} "
            f"({patient.age_source}) is "
            f"{_limit_text(vc, ok)}",
        )
    if lim.counted:
        return _count_limit(lim, pf)
    facts = []
    for f in _facts_for(pf, lim.concepts):
        usable = f.value is not None and f.about_patient and not f.negated
        if usable and _in_window(f, c, patient.as_of):
            facts.append(f)
    if not facts:
        implied = _implied_part(lim, c, pf, patient.as_of) if lim.implied else None
        if implied is not None:
            return implied
        plural = "note" if pf.n_notes == 1 else "notes"
        return Part("unknown", f"no {lim.label} value in {pf.n_notes} {plural}")
    latest = facts[0] if len(facts) == 1 else max(facts, key=_when_key)
    if vc.sex is not None and patient.sex is None:
        return Part(
            "unknown",
            f"the {vc.sex}-only limit on {lim.label} needs the "
            "patient's sex, which is not recorded",
            [latest],
        )
    value, shown = _limit_value(lim, latest)
    name = _capitalized(lim.label)
    if value is None:
        return Part(
            "unknown",
            f"{name} {shown} on {_d(latest.when)} cannot be "
            f"compared with {_num(vc.value)} {vc.unit}",
            [latest],
        )
    ok = _satisfies(value, vc)
    return Part(
        "met" if ok else "not_met",
        f"{name} {shown} on {_d(latest.when)} is {_limit_text(vc, ok)}",
        [latest],
        possible=latest.uncertain,
    )


def _implied_part(
    lim: Limit, c: Compiled, pf: PersonFacts, as_of: dt.date
) -> Part | None:
    """The limit read from a finding that bounds the measure by definition.

    "Tachycardic" without a heart rate means a rate above 100 bpm: ``met``
    when every such value satisfies the limit (heart rate >= 90), ``not_met``
    when none does (heart rate < 60), else ``unknown`` with the finding as
    evidence. Only a current, affirmed, certain finding about the patient
    counts; None when the notes have none.
    """
    implied = dict(lim.implied)
    found = []
    for f in _facts_for(pf, lim.concepts):
        current = not (f.negated or f.uncertain or f.historical)
        usable = current and f.about_patient and f.concept_id in implied
        if usable and _in_window(f, c, as_of):
            found.append(f)
    if not found:
        return None
    latest = max(found, key=_when_key)
    iv = implied[latest.concept_id]
    vc = lim.constraint
    bound = (
        iv.value
        if vc.unit is None
        else convert(iv.value, iv.unit, vc.unit, lim.measure)
    )
    if bound is None:
        return None
    unit = vc.unit or iv.unit
    reading = (
        f"{latest.lexical_variant} on {_d(latest.when)} means {lim.label} "
        f"{'above' if iv.comparator == '>' else 'below'} {_num(bound)} {unit}"
    )
    low, high = _interval(vc)
    if iv.comparator == ">":
        inside, outside = high == inf and low <= bound, high <= bound
    else:
        inside, outside = low == -inf and high >= bound, low >= bound
    if inside or outside:
        return Part(
            "met" if inside else "not_met",
            f"{reading}, so it is {_limit_text(vc, inside)}",
            [latest],
        )
    return Part(
        "unknown",
        f"{reading}, which does not tell whether it is {_limit_text(vc, True)}",
        [latest],
    )


def _interval(vc: ValueConstraint) -> tuple[float, float]:
    """The bounds of the values satisfying ``vc`` (open or closed alike)."""
    match vc.comparator:
        case "<" | "<=":
            return -inf, vc.value
        case ">" | ">=":
            return vc.value, inf
        case "between":
            return vc.value, vc.value_high if vc.value_high is not None else vc.value
    return vc.value, vc.value


@cache
def _capitalized(label: str) -> str:
    return label[:1].upper() + label[1:]


def _count_limit(lim: Limit, pf: PersonFacts) -> Part:
    """A count over a class ("two or more antihypertensive drugs"): distinct
    members affirmed in the notes, not only as history."""
    vc = lim.constraint
    found: dict[str, Fact] = {}
    for f in _facts_for(pf, lim.concepts - {lim.measure}):
        if f.about_patient and not (f.negated or f.uncertain or f.historical):
            found.setdefault(f.concept_id, f)
    names = ", ".join(sorted(f.lexical_variant for f in found.values()))
    ok = _satisfies(float(len(found)), vc)
    return Part(
        "met" if ok else "not_met",
        f"{lim.label} in the notes: {len(found)} ({names or 'none'}), "
        f"{_limit_text(vc, ok)}",
        list(found.values()),
    )


# --- combining parts --------------------------------------------------------------


def _all(parts: list[Part]) -> Part:
    return _combined(parts, ("not_met", "unknown", "met"))


def _any(parts: list[Part]) -> Part:
    return _combined(parts, ("met", "unknown", "not_met"))


_status_of = attrgetter("status")


def _combined(parts: list[Part], precedence: tuple[Status, ...]) -> Part:
    """The parts with the first status of ``precedence`` any part has, merged."""
    if len(parts) == 1:
        return _merge(parts[0].status, parts)
    statuses = set(map(_status_of, parts))
    for status in precedence:
        if status in statuses:
            if len(statuses) == 1:
                return _merge(status, parts)
            return _merge(status, [p for p in parts if p.status == status])
    return _merge("not_applicable", parts)


def _merge(status: Status, parts: list[Part]) -> Part:
    if len(parts) == 1 and parts[0].status == status and not parts[0].absent:
        return parts[0]  # parts are never mutated, so one can stand for itself
    absent: list[str] = []
    sentences: list[str] = []
    evidence: list[Fact] = []
    possible = False
    n_notes = 0
    for p in parts:
        if p.absent:
            absent.extend(p.absent)
        if p.sentence:
            sentences.append(p.sentence)
        if p.evidence:
            evidence.extend(p.evidence)
        possible = possible or p.possible
        if p.n_notes > n_notes:
            n_notes = p.n_notes
    if absent:
        names = absent[0] if len(absent) == 1 else ", ".join(absent[:-1])
        names += f" or {absent[-1]}" if len(absent) > 1 else ""
        plural = "note" if n_notes == 1 else "notes"
        sentences.append(f"no mention of {names} in {n_notes} {plural}")
    return Part(status, "; ".join(sentences), evidence, possible=possible)


def _flip(part: Part) -> Part:
    flipped = {"met": "not_met", "not_met": "met"}.get(part.status, part.status)
    return Part(
        flipped, part.sentence, part.evidence, part.possible, part.absent, part.n_notes
    )


def _silent_unknown(part: Part) -> Part:
    if part.status == "not_met" and part.absent and not part.evidence:
        return Part("unknown", "", absent=part.absent, n_notes=part.n_notes)
    return part


def _leaf(c: Compiled, pf: PersonFacts, patient: Patient) -> Part:
    """One criterion without sub-criteria.

    An exclusion is ``unknown`` only when the notes raise the question (an
    uncertain, conflicting, undatable or unqualified mention); an exclusion
    nothing in the notes bears on is not met (closed world). The closed world
    is for what notes would mention, conditions and treatments: an exclusion
    that is only value limits ("BMI > 40 kg/m2") stays ``unknown`` while the
    notes report no value, since an unmeasured lab is not a normal one; so
    does one naming only states that notes leave unsaid (pregnancy: the
    rules' ``open_world_concepts``).
    """
    part = _leaf_part(c, pf, patient)
    if c.criterion.kind != "exclusion" or part.evidence:
        return part
    open_world = load_rules().open_world_concepts
    if (
        part.status == "not_met"
        and c.groups
        and not c.limits
        and {g.root for g in c.groups}.issubset(open_world)
    ):
        return replace(part, status="unknown")
    if part.status == "unknown" and (c.groups or not c.limits):
        return Part("not_met", f"nothing in the notes bears on it ({part.sentence})")
    return part


_SEX_NOUNS: dict[str, str] = {"female": "women", "male": "men"}


def _leaf_part(c: Compiled, pf: PersonFacts, patient: Patient) -> Part:
    crit = c.criterion
    if c.admits_sex is not None and patient.sex not in (None, c.admits_sex):
        return Part(
            "not_met",
            f"admits {_SEX_NOUNS[c.admits_sex]} only; the patient is {patient.sex}",
        )
    if patient.sex == "male" and c.female_only:
        return Part("not_applicable", "applies only to women; the patient is male")
    if patient.sex == "female" and c.male_only:
        return Part("not_applicable", "applies only to men; the patient is female")
    if c.not_childbearing is not None:
        if patient.sex == "male":
            return Part(
                "not_applicable",
                "applies only to women of childbearing potential; the patient is male",
            )
        outside = _presence(c.not_childbearing, c, pf, patient.as_of)
        if outside.status == "met":
            fact = outside.evidence[0]
            return Part(
                "not_applicable",
                "applies only to women of childbearing potential; the patient is "
                f"{fact.lexical_variant.lower()} (note of {_d(fact.note_date)})",
                outside.evidence,
            )
    # Loops, not comprehensions reading local names, on this path (here and in
    # the functions it calls): in Python 3.11 a comprehension is a function
    # made at each call, and the names it reads become cells for the whole call.
    presence = []
    for g in c.groups:
        presence.append(_presence(g, c, pf, patient.as_of))
    limits = []
    for lim in c.limits:
        limits.append(_check_limit(lim, c, pf, patient))
    if not presence and not limits and not c.excluding:
        if c.either_sex and not c.unmapped:
            return Part("met", "admits patients of either sex")
        if c.admits_sex is not None and patient.sex == c.admits_sex:
            return Part(
                "met",
                f"admits {_SEX_NOUNS[c.admits_sex]}; the patient is {patient.sex}",
            )
        if c.unmapped and crit.kind == "exclusion" and not crit.negated:
            # Closed world, as for coded concepts: nothing in the notes is
            # recognised as what the exclusion names.
            names = ", ".join(f"'{t}'" for t in c.unmapped)
            return Part("not_met", f"no note fact is recognised as {names}")
        return Part(
            "unknown",
            "the criterion names no concept or value the notes can be checked against",
        )
    if crit.kind == "inclusion":
        if c.flipped:
            # "No previous X": any X present fails it; negation/absence meets it.
            absent = list(map(_flip, presence))
            return _all(absent + limits)
        ruled_out = []
        for g in c.excluding:
            p = _presence(g, c, pf, patient.as_of)
            if p.status == "met":
                ruled_out.append(p)
        if ruled_out:
            return _merge(
                "not_met",
                [
                    Part("not_met", f"excluded type: {p.sentence}", p.evidence)
                    for p in ruled_out
                ],
            )
        # An inclusion is not failed by silence: a concept the notes never
        # mention leaves it unknown. Its mentions may be alternatives ("stroke
        # or myocardial infarction": the criteria stage's combine).
        combined = _any if crit.combine == "any" else _all
        return combined([*map(_silent_unknown, presence), *limits])
    if limits and len(presence) >= 2:
        # Several named conditions beside the limits are alternatives to them
        # ("myocardial infarction, malignant arrhythmias (QT > 450 ms) ...").
        return _any([_qualified(c, pf, patient, _any(presence)), _any(limits)])
    if limits:
        # The limits decide an exclusion that gives them; a single named
        # condition is their context ("hypertension ... SBP >= 150 mmHg"), so
        # its mention without a qualifying value stays unknown.
        decided = _any(limits)
        if decided.status == "not_met" or decided.status == "not_applicable":
            return decided
        if (
            decided.status == "unknown"
            and not any(p.evidence for p in limits)
            and presence
            # Absent (never mentioned, negated, outside the window): a missing
            # value cannot make the condition it qualifies present.
            and all(p.status == "not_met" for p in presence)
        ):
            return _merge("not_met", [decided, *presence])
        if decided.status == "unknown":
            # The condition is named but its qualifying value is missing.
            return _merge("unknown", [decided, *(p for p in presence if p.evidence)])
        return decided
    return _qualified(c, pf, patient, _any(presence))


def _qualified(c: Compiled, pf: PersonFacts, patient: Patient, primary: Part) -> Part:
    """A met condition that must also carry its qualifiers (drug, biomarker)."""
    if primary.status != "met" or not c.qualifiers:
        return primary
    # An unmentioned qualifier (HER2 never tested) leaves the criterion open.
    quals = []
    for g in c.qualifiers:
        quals.append(_silent_unknown(_presence(g, c, pf, patient.as_of)))
    combined = _all([primary, *quals])
    if combined.status == "unknown":
        # Keep the condition's evidence: the notes raise the question.
        return _merge("unknown", [primary, *quals])
    return combined


# --- assessment records ---------------------------------------------------------


def _evidence(f: Fact) -> Evidence:
    return trusted(
        Evidence,
        {
            "note_id": f.note_id,
            "note_date": f.note_date,
            "section": f.section,
            "start": f.start,
            "end": f.end,
            "snippet": f.snippet,
            "modifiers": f.modifiers,
        },
    )


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _record(c: Compiled, part: Part, pf: PersonFacts) -> CriterionAssessment:
    if part.evidence:
        return _new_record(c, part, pf)
    # Without evidence a record is its status and rationale alone: built once
    # per criterion and shared by every patient it describes.
    key = (part.status, part.sentence)
    record = c.bare.get(key)
    if record is None:
        record = c.bare[key] = _new_record(c, part, pf)
    return record


def _new_record(c: Compiled, part: Part, pf: PersonFacts) -> CriterionAssessment:
    # One evidence item per mention (note, offset), the first fact standing for it.
    facts = part.evidence
    if len(facts) > 1:
        unique: dict[tuple[str, int], Fact] = {}
        for f in facts:
            unique.setdefault((f.note_id, f.start), f)
        facts = list(unique.values())
    built = pf.evidence
    evidence = []
    for f in facts:
        record = built.get(id(f))
        if record is None:
            record = built[id(f)] = _evidence(f)
        evidence.append(record)
    return trusted(
        CriterionAssessment,
        {
            **c.head,
            "status": part.status,
            "evidence": evidence,
            "rationale": _sentence(part.sentence),
        },
    )


R = TypeVar("R", bound=BaseModel)
# BaseModel's slots (its ``__dict__`` among them), set through their
# descriptors: BaseModel.__setattr__ validates, and object.__setattr__ looks
# each name up again.
_SET_DICT = vars(BaseModel)["__dict__"].__set__
_SET_FIELDS_SET = vars(BaseModel)["__pydantic_fields_set__"].__set__
_SET_EXTRA = vars(BaseModel)["__pydantic_extra__"].__set__
_SET_PRIVATE = vars(BaseModel)["__pydantic_private__"].__set__
_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}


def trusted(cls: type[R], values: dict[str, object]) -> R:
    """A record from values matching built itself, every field given.

    What ``model_construct`` does without its per-field default handling: the
    values are already of the right types, and assessment builds hundreds of
    thousands of these per benchmark run (tests round-trip them through JSON).
    """
    obj = object.__new__(cls)
    _SET_DICT(obj, values)
    # Every field is given, so every record of a class has one fields set:
    # shared (pydantic only adds names already in it, and copies it to change).
    fields = _ALL_FIELDS.get(cls)
    if fields is None:
        fields = _ALL_FIELDS[cls] = set(cls.model_fields)
    _SET_FIELDS_SET(obj, fields)
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
    return obj


def _assess(
    c: Compiled, pf: PersonFacts, patient: Patient, out: list[CriterionAssessment]
) -> Part:
    if not c.concepts.isdisjoint(pf.concept_keys):
        return _assess_fresh(c, pf, patient, out)
    # Nothing in the notes touches this criterion: its outcome depends only on
    # the patient's sex, age and note count, so it is computed once per key.
    age = patient.age_years if "age" in c.concepts else None
    key = (patient.sex, age, pf.n_notes)
    cached = c.silent.get(key)
    if cached is None:
        start = len(out)
        part = _assess_fresh(c, pf, patient, out)
        cached = c.silent[key] = (part, out[start:])
        return part
    out.extend(cached[1])
    return cached[0]


def _assess_fresh(
    c: Compiled, pf: PersonFacts, patient: Patient, out: list[CriterionAssessment]
) -> Part:
    slot = len(out)
    out.append(None)  # type: ignore[arg-type]  # parent precedes its children
    if c.children:
        parts = []
        for child in c.children:
            parts.append(_assess(child, pf, patient, out))
        combined = _any(parts) if c.criterion.combine == "any" else _all(parts)
        labels = [
            child.id
            for child, p in zip(c.children, parts, strict=True)
            if p.status == combined.status
        ]
        sentence = combined.sentence
        if labels:
            sentence = f"via {', '.join(labels)}: {sentence}"
        part = Part(combined.status, sentence, combined.evidence, combined.possible)
    else:
        part = _leaf(c, pf, patient)
    out[slot] = _record(c, part, pf)
    return part


def assess(
    compiled: list[Compiled], pf: PersonFacts, patient: Patient
) -> list[CriterionAssessment]:
    """Every criterion and sub-criterion of the trial for one patient, depth first."""
    out: list[CriterionAssessment] = []
    for c in compiled:
        _assess(c, pf, patient, out)
    return out


def _size(c: Compiled) -> int:
    return 1 + sum(_size(child) for child in c.children)


class TrialAssessor:
    """:func:`assess` for many patients of one compiled trial.

    A patient's notes touch few of a trial's criteria; the records of the
    others depend only on the patient's sex, age and note count (as for
    :func:`_assess`'s per-criterion sharing). They are built once per such
    profile, as for a patient without facts, and each patient's list starts as
    a copy of them: only the top-level criteria its notes touch are assessed.
    """

    def __init__(self, compiled: list[Compiled]) -> None:
        self.compiled = compiled
        starts = [0]
        for c in compiled:
            starts.append(starts[-1] + _size(c))
        # Where each top-level criterion's records lie in the depth-first list.
        self.spans = list(pairwise(starts))
        self._silent: dict[tuple, list[CriterionAssessment]] = {}
        # The top-level criteria each concept touches: a patient's dozen
        # concepts are looked up instead of testing every criterion.
        self._touched_by: dict[str, list[int]] = {}
        for i, c in enumerate(compiled):
            for cid in c.concepts:
                self._touched_by.setdefault(cid, []).append(i)

    def top(self, records: list[CriterionAssessment]) -> list[CriterionAssessment]:
        """The top-level criteria's records among ``records``."""
        return [records[start] for start, _ in self.spans]

    def __call__(self, pf: PersonFacts, patient: Patient) -> list[CriterionAssessment]:
        """The same list as ``assess(compiled, pf, patient)``."""
        key = (patient.sex, patient.age_years, patient.age_source, patient.as_of)
        key += (pf.n_notes,)
        silent = self._silent.get(key)
        if silent is None:
            nothing = PersonFacts(pf.person_id, n_notes=pf.n_notes)
            silent = self._silent[key] = assess(self.compiled, nothing, patient)
        out = silent.copy()
        touched_by = self._touched_by
        touched = {i for k in pf.concept_keys for i in touched_by.get(k, ())}
        for i in sorted(touched):
            start, end = self.spans[i]
            records: list[CriterionAssessment] = []
            _assess_fresh(self.compiled[i], pf, patient, records)
            out[start:end] = records
        return out
