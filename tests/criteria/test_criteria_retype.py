"""The span retyper: features, the estimator, the pipe and the committed model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.criteria.ner import (
    BratDocument,
    BratEntity,
    add_span_retyper,
    split_of,
)
from pipeline.criteria.retype import (
    PIPE_NAME,
    SpanRetyper,
    SpanRetyperComponent,
    retype_docs,
    span_features,
)

NLP = spacy.blank("en")


@pytest.mark.parametrize(
    ("text", "start", "end", "present", "absent"),
    [
        (
            "Contralateral phrenic nerve palsy",
            0,
            4,
            {
                "first=contralateral",
                "last=palsy",
                "suffix3=lsy",
                "suffix4=alsy",
                "before=<s>",
                "after=</s>",
                "length=4",
                "first_shape=Xxxxx",
            },
            {"number", "suffix5=palsy"},
        ),
        (
            "Prior treatment with carfilzomib",
            3,
            4,
            {"w=carfilzomib", "before=with", "before2=treatment", "suffix5=zomib"},
            {"w=with"},
        ),
        ("Hb < 10 g/dL for 3 weeks", 2, 6, {"number", "length=4", "after=for"}, set()),
        ("one two three four five six seven", 0, 7, {"length=5"}, {"length=7"}),
    ],
)
def test_span_features(
    text: str, start: int, end: int, present: set[str], absent: set[str]
) -> None:
    features = set(span_features(NLP(text), start, end))
    assert present <= features
    assert not absent & features


DRUGS = ["warfarin", "heparin", "apixaban", "rivaroxaban", "aspirin", "cisplatin"]
CONDITIONS = ["gastritis", "hepatitis", "colitis", "nephritis", "arthritis", "uveitis"]


def _corpus() -> tuple[list[list[str]], list[str]]:
    spans, labels = [], []
    for words, label in ((DRUGS, "Drug"), (CONDITIONS, "Condition")):
        for word in words:
            spans.append(span_features(NLP(f"history of {word}"), 2, 3))
            labels.append(label)
    return spans, labels


@pytest.fixture(scope="module")
def retyper() -> SpanRetyper:
    return SpanRetyper(C=10.0).fit(*_corpus())


def test_fit_learns_suffixes_of_unseen_words(retyper: SpanRetyper) -> None:
    unseen = [
        span_features(NLP("history of edoxaban"), 2, 3),  # like apixaban
        span_features(NLP("history of pancreatitis"), 2, 3),  # -itis
    ]
    assert list(retyper.predict(unseen)) == ["Drug", "Condition"]
    probabilities = retyper.predict_proba(unseen)
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(0.0, ["Condition", "Condition"]), (1.01, ["Drug", "Procedure"])],
)
def test_retype_replaces_a_type_only_above_threshold(
    retyper: SpanRetyper, threshold: float, expected: list[str]
) -> None:
    retyper = SpanRetyper(C=10.0, threshold=threshold).fit(*_corpus())
    colitis = span_features(NLP("history of colitis"), 2, 3)
    assert retyper.retype(["Drug", "Procedure"], [colitis, colitis]) == expected


def test_retype_of_no_span_is_empty(retyper: SpanRetyper) -> None:
    assert retyper.retype([], []) == []


def test_unknown_features_score_the_intercept(retyper: SpanRetyper) -> None:
    [probabilities] = retyper.predict_proba([["w=never-seen"]])
    exp = np.exp(retyper.intercept_ - retyper.intercept_.max())
    assert np.allclose(probabilities, exp / exp.sum())


def test_to_disk_and_back_scores_the_same(retyper: SpanRetyper, tmp_path: Path) -> None:
    retyper.to_disk(tmp_path / "retyper")
    loaded = SpanRetyper.from_disk(tmp_path / "retyper")
    spans, _ = _corpus()
    assert loaded.get_params() == retyper.get_params()
    assert np.array_equal(loaded.predict_proba(spans), retyper.predict_proba(spans))


def _doc_with(text: str, start: int, end: int, label: str) -> Doc:
    doc = NLP(text)
    doc.ents = [Span(doc, start, end, label)]
    return doc


def test_retype_docs_keeps_extents_and_untouched_docs(retyper: SpanRetyper) -> None:
    wrong = _doc_with("Severe colitis requiring surgery", 1, 2, "Drug")
    right = _doc_with("Taking heparin daily", 1, 2, "Drug")
    empty = NLP("No entity here")
    right_ents = right.ents
    retype_docs([wrong, empty, right], retyper)
    assert [(e.start, e.end, e.label_) for e in wrong.ents] == [(1, 2, "Condition")]
    assert right.ents == right_ents
    assert empty.ents == ()


@pytest.mark.parametrize("fitted", [True, False])
def test_pipe_retypes_only_when_fitted(retyper: SpanRetyper, fitted: bool) -> None:
    pipe = SpanRetyperComponent(retyper if fitted else None)
    texts = ["Severe colitis requiring surgery", "Active colitis now"]
    expected = "Condition" if fitted else "Drug"
    one = pipe(_doc_with(texts[0], 1, 2, "Drug"))
    batch = list(pipe.pipe((_doc_with(t, 1, 2, "Drug") for t in texts), batch_size=1))
    assert [e.label_ for d in [one, *batch] for e in d.ents] == [expected] * 3


def _entity(label: str, text: str, word: str) -> BratEntity:
    start = text.index(word)
    end = start + len(word)
    return BratEntity(word, label, start, end, ((start, end),), word)


def test_add_span_retyper_reads_the_training_parts_only(tmp_path: Path) -> None:
    # One trial per part; the test trial's types contradict the others', so a
    # retyper that read it would not type "warfarin" as a drug.
    trials = {split_of(f"NCT{n:08d}"): f"NCT{n:08d}" for n in range(60)}
    documents = []
    for part, trial in trials.items():
        label = "Condition" if part == "test" else "Drug"
        text = "Taking warfarin\nTaking heparin"
        entities = (
            _entity(label, text, "warfarin"),
            _entity(label, text, "heparin"),
            _entity("Condition", text, "Taking"),
        )
        documents.append(BratDocument(f"{trial}_inc", text, entities))
    model_dir = tmp_path / "model"
    spacy.blank("en").to_disk(model_dir)
    add_span_retyper(model_dir, documents, final=True)
    nlp = spacy.load(model_dir)
    assert nlp.pipe_names == [PIPE_NAME]
    retyper = nlp.get_pipe(PIPE_NAME).retyper
    warfarin = span_features(NLP("Taking warfarin"), 1, 2)
    assert list(retyper.predict([warfarin])) == ["Drug"]


def test_committed_model_retypes_after_the_ner(criteria_ner: Language) -> None:
    assert criteria_ner.pipe_names[-2:] == ["ner", PIPE_NAME]


# Regressions from the seed listing NCT05262335: the NER alone typed "HER2"
# as a Procedure and "≥60ml/min" as a Multiplier.
@pytest.mark.parametrize(
    ("text", "entity", "ner_alone", "retyped"),
    [
        ("HER2-positive gastric adenocarcinoma", "HER2", "Procedure", "Measurement"),
        (
            "The main organs are functioning normally (normal main organs function"
            " as defined below: Hemoglobin (Hb) ≥ 90 g/L, Neutrophils (ANC) ≥"
            " 1.5×109/L, Platelet count (PLT) ≥ 90×109/L, Total bilirubin (TBIL) ≤"
            " 1.5 × normal upper limit (ULN), Aspartate aminotransferase (AST) and"
            " Alanine aminotransferase (ALT) ≤ 5 ×ULN, Creatinine Clearance rate"
            " (CCr) ≥60ml/min)",
            "≥60ml/min",
            "Multiplier",
            "Value",
        ),
    ],
)
def test_committed_model_seed_regressions(
    criteria_ner: Language, text: str, entity: str, ner_alone: str, retyped: str
) -> None:
    def label_of(doc: Doc) -> str:
        return next(e.label_ for e in doc.ents if e.text == entity)

    with criteria_ner.select_pipes(disable=[PIPE_NAME]):
        assert label_of(criteria_ner(text)) == ner_alone
    assert label_of(criteria_ner(text)) == retyped
