"""Assertion of mentions: negated, historical, hypothetical, family, uncertain.

An implementation of ConText (Harkema et al., J Biomed Inform 2009), itself a
generalisation of NegEx (Chapman et al., J Biomed Inform 2001). Trigger
phrases ("denies", "history of", "if", "mother") open a scope that runs forward
or backward from the trigger to the end of the sentence, to a terminating
phrase ("but", ";", "which") or to the rule's maximum number of words; every
target mention inside the scope takes the trigger's category. Pseudo-triggers
("no increase", "history of present illness") match so that the shorter
triggers inside them do not. Where triggers overlap, the longest wins.

The rules are data (``resources/notes_context_rules.jsonl``): medspaCy's default
English ConText rules (``resources/en/context_rules.json`` of medspaCy 1.3.1,
marked ``"source": "medspacy"``) ported to this format, plus rules added for the
known misses of those defaults (``"source": "trialmatch"``). A section that
implies a modifier (FAMILY HISTORY -> family) adds it to every mention in it.
Many historical mentions carry no trigger at all (a bare past-medical-history
list item, "HYPERTENSION."); for conditions, findings and procedures a learned
classifier (:mod:`pipeline.notes.temporality`) may add ``historical`` on top of
the rules' verdict, never remove it.

The scope engine works on characters with compiled regular expressions, and
only on sentences that hold a mention: it is what makes the stage fast.

(No ``from __future__ import annotations``: spaCy reads the factory signature.)
"""

import bisect
import re
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, islice
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline import errors
from pipeline.notes.concepts import MENTIONS
from pipeline.notes.sections import doc_sentence_starts, load_section_rules
from pipeline.notes.temporality import (
    HistoricalClassifier,
    MentionContext,
    default_classifier,
)
from pipeline.notes.tokenizer import note_text
from pipeline.resources import load_jsonl
from pipeline.vocabulary import load_vocabulary

Category = Literal["negated", "historical", "hypothetical", "family", "uncertain"]
Direction = Literal["forward", "backward", "bidirectional", "terminate", "pseudo"]

RULES_FILE = "notes_context_rules.jsonl"

# Forced: medspaCy's ConText registers its own ``modifiers`` (a tuple) when it is
# loaded in the same process (``trialmatch bench notes``).
Span.set_extension("modifiers", default=frozenset(), force=True)

# Tokens as the trigger index sees them: words, or single punctuation marks.
_TOKEN = re.compile(r"[^\W_]+|\S")
_WORD = re.compile(r"[^\W_]+")
# Longer than any word a backward scope of a few words needs to see.
_MAX_WORD_CHARS = 40
# A sentence that is an item of a list: "2.  Bleeding.", "- fever" (MTSamples
# keeps a comma where a line break was: ",3.  Incontinence.").
_LIST_ITEM = re.compile(r"[\s,]*(?:\d{1,2}[.)]|[-*\u2022])\s")
# What may follow a clause-final trigger ("Blood transfusion: No.").
_CLAUSE_END = r"(?=[ \t]*(?:[.,;)\r\n]|$))"


class ContextRule(BaseModel):
    """One ConText trigger.

    ``pattern`` is a list of token slots, each a list of alternative phrases
    ("" makes a slot optional); without it the trigger is ``literal``.
    ``category`` ``"any"`` (terminate and pseudo only) ends or blocks every
    category. ``clause_final`` triggers only count when nothing but
    punctuation follows them in their clause ("Blood transfusion: No").
    A forward trigger that ``opens_list`` ("risks include, but are not
    limited to") reaches over the terminators that ``separates_items`` (";"):
    "bleeding; infection; stroke" are all risks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    literal: str = Field(min_length=1)
    category: Category | Literal["any"]
    direction: Direction
    pattern: list[list[str]] | None = None
    max_scope: int | None = Field(default=None, gt=0)
    clause_final: bool = False
    opens_list: bool = False
    separates_items: bool = False
    source: Literal["medspacy", "trialmatch"]

    @model_validator(mode="after")
    def _consistent(self) -> "ContextRule":
        if self.category == "any" and self.direction not in ("terminate", "pseudo"):
            raise ValueError("category 'any' is only for terminate/pseudo rules")
        if self.opens_list and self.direction != "forward":
            raise ValueError("opens_list is only for forward rules")
        if self.separates_items and self.direction != "terminate":
            raise ValueError("separates_items is only for terminate rules")
        if self.pattern is not None:
            if not self.pattern or any(not slot for slot in self.pattern):
                raise ValueError("pattern slots must be non-empty lists")
            if all("" in slot for slot in self.pattern):
                raise ValueError("a pattern needs at least one required slot")
        return self

    def slots(self) -> list[list[str]]:
        """The token slots of the trigger (the literal is a single slot)."""
        return self.pattern if self.pattern is not None else [[self.literal]]

    def first_phrases(self) -> list[str]:
        """Phrases a match can begin with (optional leading slots skipped)."""
        phrases: list[str] = []
        for slot in self.slots():
            phrases.extend(a for a in slot if a)
            if "" not in slot:
                break
        return phrases


@dataclass(frozen=True)
class Trigger:
    """A matched trigger: ``[start, end)`` in characters."""

    start: int
    end: int
    rule: ContextRule


@dataclass(frozen=True)
class ContextRules:
    """Rules compiled: per first token, the (pattern, rules) that may start there."""

    by_first_token: dict[str, list[tuple[re.Pattern[str], tuple[ContextRule, ...]]]]


def _phrase_regex(phrase: str) -> str:
    parts = []
    for token in _TOKEN.findall(phrase.lower()):
        parts.append(
            rf"\b{re.escape(token)}\b" if _WORD.fullmatch(token) else re.escape(token)
        )
    return r"\s*".join(parts)


def _rule_regex(rule: ContextRule) -> str:
    regex = ""
    for i, slot in enumerate(rule.slots()):
        options = sorted({a for a in slot if a}, key=len, reverse=True)
        group = "(?:" + "|".join(_phrase_regex(a) for a in options) + ")"
        if i:
            group = r"\s*" + group
        regex += f"(?:{group})?" if "" in slot else group
    return regex + (_CLAUSE_END if rule.clause_final else "")


def compile_context_rules(rules: list[ContextRule]) -> ContextRules:
    """Index the rules by the first token they can start with."""
    grouped: dict[str, list[ContextRule]] = {}
    for rule in rules:
        grouped.setdefault(_rule_regex(rule), []).append(rule)
    by_first: dict[str, list[tuple[re.Pattern[str], tuple[ContextRule, ...]]]] = {}
    for regex, same in grouped.items():
        compiled = re.compile(regex, re.IGNORECASE)
        for phrase in same[0].first_phrases():
            first = _TOKEN.match(phrase.lower().lstrip())
            if first is None:
                raise errors.bad_resource(
                    RULES_FILE, f"trigger {same[0].literal!r} has a blank phrase"
                )
            entry = (compiled, tuple(same))
            bucket = by_first.setdefault(first.group(), [])
            if entry not in bucket:
                bucket.append(entry)
    return ContextRules(by_first)


@cache
def load_context_rules() -> ContextRules:
    """The packaged ConText rules, validated and compiled once per process."""
    rules = load_jsonl(RULES_FILE, ContextRule)
    seen: set[tuple[str, str, str, str]] = set()
    for rule in rules:
        key = (rule.literal.lower(), rule.category, rule.direction, str(rule.pattern))
        if key in seen:
            raise errors.bad_resource(RULES_FILE, f"duplicate rule {rule.literal!r}")
        seen.add(key)
    return compile_context_rules(rules)


def find_triggers(
    text: str, start: int, end: int, rules: ContextRules
) -> list[Trigger]:
    """Triggers in ``text[start:end]``, leftmost-longest and non-overlapping."""
    triggers: list[Trigger] = []
    resume = start
    for token in _TOKEN.finditer(text, start, end):
        if token.start() < resume:
            continue
        candidates = rules.by_first_token.get(token.group().lower())
        if not candidates:
            continue
        best_end, best_rules = -1, []
        for pattern, same in candidates:
            match = pattern.match(text, token.start(), end)
            if match is None or match.end() < best_end:
                continue
            if match.end() > best_end:
                best_end, best_rules = match.end(), []
            best_rules.extend(same)
        if best_end < 0:
            continue
        unique = {id(rule): rule for rule in best_rules}.values()
        triggers.extend(Trigger(token.start(), best_end, rule) for rule in unique)
        resume = best_end
    return triggers


def _word_limit(
    text: str, begin: int, stop: int, words: int | None, forward: bool
) -> int:
    """Where a scope of at most ``words`` words starting at ``begin`` ends.

    Only a window of the text is scanned, so a huge one-line note does not
    make every trigger cost a pass over the rest of it.
    """
    if words is None:
        return stop
    if forward:
        found = list(islice(_WORD.finditer(text, begin, stop), words))
        return found[-1].end() if len(found) == words else stop
    low = max(stop, begin - _MAX_WORD_CHARS * words)
    found = list(_WORD.finditer(text, low, begin))
    return found[-words].start() if len(found) >= words else low


def _terminates(terminator: ContextRule, category: str) -> bool:
    return terminator.category in ("any", category)


def _scopes(
    text: str, start: int, end: int, triggers: list[Trigger]
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    """Per category, forward scopes ``(trigger end, scope end)`` and backward
    scopes ``(trigger start, scope start)``."""
    stops = [t for t in triggers if t.rule.direction == "terminate"]
    categories = {t.rule.category for t in triggers}
    stop_starts = {
        c: [s.start for s in stops if _terminates(s.rule, c)] for c in categories
    }
    # Only a sentence with a list-opening trigger needs the stops without the
    # item separators; every other sentence reads the same stops.
    list_stop_starts = (
        {
            c: [
                s.start
                for s in stops
                if _terminates(s.rule, c) and not s.rule.separates_items
            ]
            for c in categories
        }
        if any(t.rule.opens_list for t in triggers)
        else stop_starts
    )
    stop_ends = {
        c: [s.end for s in stops if _terminates(s.rule, c)] for c in categories
    }
    forward: dict[str, list[tuple[int, int]]] = {}
    backward: dict[str, list[tuple[int, int]]] = {}
    for trig in triggers:
        rule = trig.rule
        if rule.direction in ("terminate", "pseudo"):
            continue
        if rule.direction in ("forward", "bidirectional"):
            limit = _word_limit(text, trig.end, end, rule.max_scope, forward=True)
            starts = (list_stop_starts if rule.opens_list else stop_starts)[
                rule.category
            ]
            after = bisect.bisect_left(starts, trig.end)
            if after < len(starts):
                limit = min(limit, starts[after])
            forward.setdefault(rule.category, []).append((trig.end, limit))
        if rule.direction in ("backward", "bidirectional"):
            limit = _word_limit(text, trig.start, start, rule.max_scope, forward=False)
            ends = stop_ends[rule.category]
            before = bisect.bisect_right(ends, trig.start) - 1
            if before >= 0:
                limit = max(limit, ends[before])
            backward.setdefault(rule.category, []).append((trig.start, limit))
    return forward, backward


def assert_targets(
    text: str,
    start: int,
    end: int,
    targets: list[tuple[int, int]],
    rules: ContextRules,
) -> list[frozenset[str]]:
    """ConText modifiers of each target ``(start, end)`` in ``text[start:end]``.

    A target takes a category when it starts inside a forward scope, or lies
    wholly inside a backward scope, of a trigger of that category. Scopes are
    searched with prefix maxima / suffix minima, so a huge one-sentence note
    costs O((triggers + targets) log) rather than their product.
    """
    forward, backward = _scopes(
        text, start, end, find_triggers(text, start, end, rules)
    )
    found: list[set[str]] = [set() for _ in targets]
    for category, scopes in forward.items():
        scopes.sort()
        opens = [o for o, _ in scopes]
        reach = list(accumulate((c for _, c in scopes), max))
        for i, (t_start, _) in enumerate(targets):
            last = bisect.bisect_right(opens, t_start) - 1
            if last >= 0 and reach[last] > t_start:
                found[i].add(category)
    for category, scopes in backward.items():
        scopes.sort()
        closes = [c for c, _ in scopes]
        reach = list(accumulate((o for _, o in reversed(scopes)), min))[::-1]
        for i, (t_start, t_end) in enumerate(targets):
            first = bisect.bisect_left(closes, t_end)
            if first < len(scopes) and reach[first] <= t_start:
                found[i].add(category)
    return [frozenset(f) for f in found]


def list_categories(
    text: str, bounds: list[int], index: int, rules: ContextRules
) -> frozenset[str]:
    """Categories a list item takes from the sentence that opens its list
    (``bounds``: the sentence starts, then the text's end).

    ConText's scopes end with the sentence, but a sentence splitter makes each
    item of "Potential complications include, but are not limited to: 1.
    Infection. 2. Bleeding." a sentence of its own. An item (a sentence that
    starts with "2." or a bullet) takes every category whose forward scope, in
    the clause that the last colon of the first sentence before the run of
    items ends, reaches over that colon.
    """
    opener = index
    while opener >= 0 and _LIST_ITEM.match(text, bounds[opener]):
        opener -= 1
    if opener == index or opener < 0:
        return frozenset()
    begin, end = bounds[opener], bounds[opener + 1]
    colon = text.rfind(":", begin, end)
    if colon < 0:
        return frozenset()
    # Only the clause the colon ends opens the list: "Dr. X.,PLAN:" carries
    # nothing of the sentence before the header.
    clause = max(text.rfind(".", begin, colon), text.rfind(";", begin, colon)) + 1
    clause = max(clause, begin)
    # The colon is searched too: "Plan:" is a pseudo-trigger, "plan" is not.
    triggers = find_triggers(text, clause, colon + 1, rules)
    forward, _ = _scopes(text, clause, end, triggers)
    return frozenset(
        category
        for category, scopes in forward.items()
        if any(opens <= colon < reach for opens, reach in scopes)
    )


def context_assertions(
    doc: Doc, mentions: list[Span], rules: ContextRules
) -> list[tuple[Span, frozenset[str], MentionContext]]:
    """Modifiers of every mention from the rules (ConText in its sentence, those
    its list's opening sentence gives a list item, and those its section
    implies), with the mention in context for the learned temporality
    classifier."""
    section_modifiers = load_section_rules().modifiers
    starts = doc_sentence_starts(doc) or [0]
    by_sentence: dict[int, list[Span]] = {}
    for span in mentions:
        by_sentence.setdefault(
            bisect.bisect_right(starts, span.start_char) - 1, []
        ).append(span)
    text = note_text(doc)
    bounds = [*starts, len(text)]
    out = []
    for index, spans in by_sentence.items():
        begin = starts[max(index, 0)]
        finish = starts[index + 1] if index + 1 < len(starts) else len(text)
        targets = [(s.start_char, s.end_char) for s in spans]
        listed = list_categories(text, bounds, index, rules)
        for span, modifiers in zip(
            spans, assert_targets(text, begin, finish, targets, rules), strict=True
        ):
            modifiers |= listed
            if span._.section is not None:
                modifiers |= section_modifiers.get(span._.section, frozenset())
            context = MentionContext(
                text,
                begin,
                finish,
                span.start_char,
                span.end_char,
                "historical" in modifiers,
            )
            out.append((span, modifiers, context))
    return out


def apply_assertions(
    asserted: list[tuple[Span, frozenset[str], MentionContext]],
    temporality: HistoricalClassifier | None,
) -> None:
    """Set ``span._.modifiers``: the rules', with historical also when the
    learned ``temporality`` classifier says so (scored in one batch)."""
    contexts = [context for _, _, context in asserted]
    historical = (
        temporality.predict(contexts)
        if temporality is not None
        else [c.rule_historical for c in contexts]
    )
    for (span, modifiers, _), past in zip(asserted, historical, strict=True):
        span._.modifiers = modifiers | {"historical"} if past else modifiers


def assert_mentions(
    doc: Doc,
    mentions: list[Span],
    rules: ContextRules,
    temporality: HistoricalClassifier | None = None,
) -> None:
    """ConText (and the optional learned temporality) over ``mentions``."""
    apply_assertions(context_assertions(doc, mentions, rules), temporality)


def learned_domain_mentions(
    mentions: list[Span], domains: frozenset[str]
) -> tuple[list[Span], list[Span]]:
    """Mentions whose concept is in ``domains`` (the classifier was trained on
    conditions, findings and procedures), and the rest (drugs, measurements,
    demographics: out of its training domain, left to the rules)."""
    concepts = load_vocabulary().concepts
    inside, outside = [], []
    for span in mentions:
        concept = concepts.get(span.label_)
        in_domain = concept is not None and concept.domain in domains
        (inside if in_domain else outside).append(span)
    return inside, outside


class ContextTagger:
    """spaCy component: ConText over ``doc.spans["mentions"]``, with the learned
    temporality classifier on the mentions of ``learned_domains``."""

    def __init__(self, nlp: Language, name: str, learned_domains: list[str]) -> None:
        self.name = name
        self.rules = load_context_rules()
        self.temporality = default_classifier()
        self.learned_domains = frozenset(learned_domains)

    def __call__(self, doc: Doc) -> Doc:
        inside, outside = learned_domain_mentions(
            list(doc.spans.get(MENTIONS, ())), self.learned_domains
        )
        assert_mentions(doc, inside, self.rules, self.temporality)
        assert_mentions(doc, outside, self.rules)
        return doc


@Language.factory(
    "trialmatch_context",
    default_config={"learned_domains": ["Condition", "Observation", "Procedure"]},
)
def make_context_tagger(
    nlp: Language, name: str, learned_domains: list[str]
) -> ContextTagger:
    """Factory of the ``trialmatch_context`` component."""
    return ContextTagger(nlp, name, learned_domains)
