"""The learned historical-temporality classifier that complements ConText."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from spacy.tokens import Span
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import TrialmatchError
from pipeline.notes.context import (
    assert_mentions,
    learned_domain_mentions,
    load_context_rules,
)
from pipeline.notes.engine import build_context_nlp, build_notes_nlp
from pipeline.notes.evaluation import locate
from pipeline.notes.temporality import (
    HistoricalClassifier,
    MentionContext,
    default_classifier,
    load_classifier,
    mention_features,
    save_classifier,
)


def mention(sentence: str, term: str, rule: bool = False) -> MentionContext:
    start, end = locate(term, sentence)
    return MentionContext(sentence, 0, len(sentence), start, end, rule)


@pytest.mark.parametrize(
    ("sentence", "term", "present", "absent"),
    [
        (
            "HYPERTENSION.",
            "hypertension",
            {"bare", "upper", "t:hypertension"},
            {"rule"},
        ),
        (
            "The patient's known anemia today.",
            "anemia",
            {"b:known", "a:today", "s:patient", "t:anemia"},
            {"bare", "upper", "b:today"},
        ),
        (
            "History of pneumonia.",
            "pneumonia",
            {"b:history", "ts:onia", "short"},
            {"a:history"},
        ),
    ],
)
def test_mention_features(
    sentence: str, term: str, present: set[str], absent: set[str]
) -> None:
    features = mention_features(mention(sentence, term), window=6, reach=300)
    assert present <= {k for k, v in features.items() if v}
    assert not absent & {k for k, v in features.items() if v}


def test_features_are_bounded_by_reach() -> None:
    text = "word " * 100_000 + "anemia " + "word " * 100_000
    start = text.index("anemia")
    ctx = MentionContext(text, 0, len(text), start, start + 6, False)
    features = mention_features(ctx, window=6, reach=50)
    assert set(features) >= {"t:anemia", "s:word"}
    assert len(features) < 20


TRAIN = [
    ("History: HYPERTENSION.", "hypertension", True),
    ("Old infarct noted.", "infarct", True),
    ("Previously treated pneumonia.", "pneumonia", True),
    ("Acute chest pain now.", "chest pain", False),
    ("Fever today.", "fever", False),
    ("Currently cough and fever.", "cough", False),
]


def fit_tiny(**params: float) -> HistoricalClassifier:
    mentions = [mention(s, t) for s, t, _ in TRAIN]
    return HistoricalClassifier(**params).fit(mentions, [y for *_, y in TRAIN])


def test_estimator_contract() -> None:
    classifier = HistoricalClassifier(C=2.0, window=4, reach=100, threshold=0.4)
    assert classifier.get_params() == {
        "C": 2.0,
        "window": 4,
        "reach": 100,
        "threshold": 0.4,
    }
    assert not [k for k in vars(classifier) if k.endswith("_")]
    mentions = [mention(s, t) for s, t, _ in TRAIN]
    assert classifier.fit(mentions, [y for *_, y in TRAIN]) is classifier
    learned = {k for k in vars(classifier) if k.endswith("_")}
    assert {"weights_", "intercept_", "classes_"} <= learned
    assert clone(classifier).get_params() == classifier.get_params()
    assert not [k for k in vars(clone(classifier)) if k.endswith("_")]


def test_predict_is_rule_or_model() -> None:
    classifier = fit_tiny(C=10.0)
    pos = mention("History: HYPERTENSION.", "hypertension")
    neg = mention("Fever today.", "fever")
    proba = classifier.predict_proba([pos, neg])[:, 1]
    assert proba[0] > 0.5 > proba[1]
    assert classifier.predict([pos, neg]).tolist() == [True, False]
    ruled = mention("Fever today.", "fever", rule=True)
    assert classifier.predict([ruled]).tolist() == [True]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    classifier = fit_tiny()
    save_classifier(classifier, tmp_path)
    loaded = load_classifier(tmp_path)
    mentions = [mention(s, t) for s, t, _ in TRAIN]
    assert loaded.get_params() == classifier.get_params()
    assert np.allclose(
        loaded.predict_proba(mentions), classifier.predict_proba(mentions)
    )


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrialmatchError, match="trialmatch train context"):
        load_classifier(tmp_path / "nowhere")


def asserted(sentence: str, term: str, learned: bool) -> frozenset[str]:
    doc = build_context_nlp()(sentence)
    start, end = locate(term, sentence)
    span = doc.char_span(start, end, label="target", alignment_mode="expand")
    temporality = default_classifier() if learned else None
    assert_mentions(doc, [span], load_context_rules(), temporality)
    return span._.modifiers


@pytest.mark.parametrize(
    ("sentence", "term", "rules_only", "with_model"),
    [
        # a bare past-medical-history list item: no in-sentence cue
        ("HYPERTENSION.", "hypertension", set(), {"historical"}),
        (
            "The patient's known hyperlipidemia.",
            "hyperlipidemia",
            set(),
            {"historical"},
        ),
        # a ConText trigger keeps the rule's verdict
        ("History of stroke.", "stroke", {"historical"}, {"historical"}),
        # present findings stay current
        ("Heart is normal in size.", "heart", set(), set()),
        ("She complains of chest pain today.", "chest pain", set(), set()),
        ("No fever.", "fever", {"negated"}, {"negated"}),
    ],
)
def test_packaged_model_flips_obvious_cases(
    sentence: str, term: str, rules_only: set[str], with_model: set[str]
) -> None:
    assert asserted(sentence, term, learned=False) == rules_only
    assert asserted(sentence, term, learned=True) == with_model


def test_engine_applies_model_to_bare_condition_items() -> None:
    doc = build_notes_nlp()("HYPERTENSION.\n")
    (span,) = [s for s in doc.spans["mentions"] if s.text == "HYPERTENSION"]
    assert "historical" in span._.modifiers


@pytest.mark.parametrize(
    ("label", "learned"),
    [
        ("hypertension", True),
        # drugs and measurements are outside the classifier's training domain
        ("metoprolol", False),
        ("hemoglobin", False),
        ("target", False),
    ],
)
def test_learned_domain_mentions(label: str, learned: bool) -> None:
    doc = build_context_nlp()("word")
    span = Span(doc, 0, 1, label=label)
    inside, outside = learned_domain_mentions(
        [span], frozenset({"Condition", "Observation", "Procedure"})
    )
    assert (inside, outside) == (([span], []) if learned else ([], [span]))


def test_train_context_command(tmp_path: Path) -> None:
    header = (
        "line number\tCondition\tsentence\tnegation_status\ttemporality\texperiencer\n"
    )
    lines = [
        f"{i}\t{t}\t{s}\tAffirmed\t{'Historical' if y else 'Recent'}\tPatient\n"
        for i, (s, t, y) in enumerate(TRAIN * 5, start=1000)
    ]
    tsv = tmp_path / "negex.tsv"
    tsv.write_text(header + "".join(lines), encoding="utf-8")
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app, ["train", "context", "--negex", str(tsv), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "chosen threshold=" in result.output
    assert load_classifier(out).weights_
