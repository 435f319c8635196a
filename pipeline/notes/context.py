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

The scope engine works on characters with compiled regular expressions, and
only on sentences that hold a mention: it is what makes the stage fast.

(No ``from __future__ import annotations``: spaCy reads the factory signature.)
"""

import bisect
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline import errors
from pipeline.notes.concepts import MENTIONS
from pipeline.notes.sections import doc_sentence_starts, load_section_rules
from pipeline.notes.tokenizer import note_text
from pipeline.resources import load_jsonl

Category = Literal["negated", "historical", "hypothetical", "family", "uncertain"]
Direction = Literal["forward", "backward", "bidirectional", "terminate", "pseudo"]

RULES_FILE = "notes_context_rules.jsonl"

# Forced: medspaCy's ConText registers its own ``modifiers`` (a tuple) when it is
# loaded in the same process (``trialmatch bench notes``).
Span.set_extension("modifiers", default=frozenset(), force=True)

# Tokens as the trigger index sees them: words, or single punctuation marks.
_TOKEN = re.compile(r"[^\W_]+|\S")
_WORD = re.compile(r"[^\W_]+")
# What may follow a clause-final trigger ("Blood transfusion: No.").
_CLAUSE_END = r"(?=[ \t]*(?:[.,;)\r\n]|$))"


class ContextRule(BaseModel):
    """One ConText trigger.

    ``pattern`` is a list of token slots, each a list of alternative phrases
    ("" makes a slot optional); without it the trigger is ``literal``.
    ``category`` ``"any"`` (terminate and pseudo only) ends or blocks every
    category. ``clause_final`` triggers only count when nothing but
    punctuation follows them in their clause ("Blood transfusion: No").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    literal: str = Field(min_length=1)
    category: Category | Literal["any"]
    direction: Direction
    pattern: list[list[str]] | None = None
    max_scope: int | None = Field(default=None, gt=0)
    clause_final: bool = False
    source: Literal["medspacy", "trialmatch"]

    @model_validator(mode="after")
    def _consistent(self) -> "ContextRule":
        if self.category == "any" and self.direction not in ("terminate", "pseudo"):
            raise ValueError("category 'any' is only for terminate/pseudo rules")
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
    """Where a scope of at most ``words`` words starting at ``begin`` ends."""
    if words is None:
        return stop
    if forward:
        found = list(_WORD.finditer(text, begin, stop))
        return found[words - 1].end() if len(found) >= words else stop
    found = list(_WORD.finditer(text, stop, begin))
    return found[-words].start() if len(found) >= words else stop


def _terminates(terminator: ContextRule, category: str) -> bool:
    return terminator.category in ("any", category)


def assert_targets(
    text: str,
    start: int,
    end: int,
    targets: list[tuple[int, int]],
    rules: ContextRules,
) -> list[frozenset[str]]:
    """ConText modifiers of each target ``(start, end)`` in ``text[start:end]``."""
    triggers = find_triggers(text, start, end, rules)
    stops = [t for t in triggers if t.rule.direction == "terminate"]
    found: list[set[str]] = [set() for _ in targets]
    for trig in triggers:
        rule = trig.rule
        if rule.direction in ("terminate", "pseudo"):
            continue
        category = rule.category
        if rule.direction in ("forward", "bidirectional"):
            scope_end = min(
                [
                    s.start
                    for s in stops
                    if s.start >= trig.end and _terminates(s.rule, category)
                ]
                + [_word_limit(text, trig.end, end, rule.max_scope, forward=True)]
            )
            for i, (t_start, _) in enumerate(targets):
                if trig.end <= t_start < scope_end:
                    found[i].add(category)
        if rule.direction in ("backward", "bidirectional"):
            scope_start = max(
                [
                    s.end
                    for s in stops
                    if s.end <= trig.start and _terminates(s.rule, category)
                ]
                + [_word_limit(text, trig.start, start, rule.max_scope, forward=False)]
            )
            for i, (t_start, t_end) in enumerate(targets):
                if scope_start <= t_start and t_end <= trig.start:
                    found[i].add(category)
    return [frozenset(f) for f in found]


def assert_mentions(doc: Doc, mentions: list[Span], rules: ContextRules) -> None:
    """Set ``span._.modifiers`` on every mention: ConText in its sentence plus
    the modifiers its section implies."""
    starts = doc_sentence_starts(doc) or [0]
    section_modifiers = load_section_rules().modifiers
    by_sentence: dict[int, list[Span]] = {}
    for span in mentions:
        by_sentence.setdefault(
            bisect.bisect_right(starts, span.start_char) - 1, []
        ).append(span)
    text = note_text(doc)
    for index, spans in by_sentence.items():
        begin = starts[max(index, 0)]
        finish = starts[index + 1] if index + 1 < len(starts) else len(text)
        targets = [(s.start_char, s.end_char) for s in spans]
        for span, modifiers in zip(
            spans, assert_targets(text, begin, finish, targets, rules), strict=True
        ):
            section = span._.section
            if section is not None:
                modifiers |= section_modifiers.get(section, frozenset())
            span._.modifiers = modifiers


class ContextTagger:
    """spaCy component: ConText over ``doc.spans["mentions"]``."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.rules = load_context_rules()

    def __call__(self, doc: Doc) -> Doc:
        assert_mentions(doc, list(doc.spans.get(MENTIONS, ())), self.rules)
        return doc


@Language.factory("trialmatch_context")
def make_context_tagger(nlp: Language, name: str) -> ContextTagger:
    """Factory of the ``trialmatch_context`` component."""
    return ContextTagger(nlp, name)
