"""BRAT reading, the by-trial split, training data and the committed NER model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from spacy.language import Language
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.criteria.extract import ner_available
from pipeline.criteria.ner import (
    EVALUATED_TYPES,
    FINAL_STEPS,
    BratDocument,
    choose_spans,
    criterion_lines,
    customise_tokenizer,
    evaluate_brat,
    line_docs,
    load_criteria_ner,
    parse_ann,
    predict_mentions,
    read_brat_document,
    split_of,
    train_criteria_ner,
    training_settings,
    write_training_data,
)
from pipeline.errors import TrialmatchError

ANN = (
    "T1\tCondition 68 73\tNSCLC\n"
    "T3\tQualifier 16 30;48 54\thistologically proven\n"
    "*\tOR T3 T2\n"
    "R1\tHas_qualifier Arg1:T1 Arg2:T3\t\n"
    "A1\tOptional T1\n"
)


def test_parse_ann_reads_text_bound_lines_only() -> None:
    entities = parse_ann(ANN)
    assert [(e.id, e.label, e.start, e.end) for e in entities] == [
        ("T1", "Condition", 68, 73),
        ("T3", "Qualifier", 16, 54),
    ]
    assert entities[1].fragments == ((16, 30), (48, 54))
    assert entities[1].discontinuous and not entities[0].discontinuous


def test_malformed_entity_line_is_a_clear_error() -> None:
    with pytest.raises(TrialmatchError, match=r"x.ann:2: not a BRAT entity line"):
        parse_ann("T1\tCondition 0 3\tflu\nT2\tCondition zero 3\tflu\n", "x.ann")


def test_read_brat_document_keeps_crlf_offsets(tmp_path: Path) -> None:
    text = "Age 18\r\nNo diabetes\r\n"
    (tmp_path / "NCT1_inc.txt").write_bytes(text.encode())
    (tmp_path / "NCT1_inc.ann").write_text(
        "T1\tCondition 11 19\tdiabetes\nT2\tValue 50 60\tout of text\n"
    )
    document = read_brat_document(tmp_path / "NCT1_inc.txt")
    assert document.trial_id == "NCT1"
    [entity] = document.entities  # T2 lies outside the text
    assert document.text[entity.start : entity.end] == "diabetes"


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("a\nb", ["a", "b"]),
        ("  a b \r\n\r\nc\rd", ["a b", "c", "d"]),
        ("\n \n", []),
    ],
)
def test_criterion_lines(text: str, lines: list[str]) -> None:
    assert [text[s:e] for s, e in criterion_lines(text)] == lines


def test_split_is_deterministic_disjoint_and_proportioned() -> None:
    trials = [f"NCT{n:08d}" for n in range(2000)]
    parts = [split_of(t) for t in trials]
    assert parts == [split_of(t) for t in trials]
    # Each trial lands in exactly one part, in roughly the 70/10/20 shares.
    assert set(parts) == {"train", "dev", "test"}
    assert 0.15 < parts.count("test") / 2000 < 0.25
    assert 0.06 < parts.count("dev") / 2000 < 0.14


def test_training_data_never_holds_test_trials(tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    trial_of = {split_of(f"NCT{n:08d}"): f"NCT{n:08d}" for n in range(60)}
    documents = [
        BratDocument(f"{trial_of[part]}_{kind}", f"{part} {kind} criterion", ())
        for part in ("train", "dev", "test")
        for kind in ("inc", "exc")
    ]
    paths = write_training_data(documents, tmp_path)
    assert set(paths) == {"train", "dev"}
    vocab = spacy.blank("en").vocab
    for part, path in paths.items():
        texts = [doc.text for doc in DocBin().from_disk(path).get_docs(vocab)]
        assert texts == [f"{part} inc criterion", f"{part} exc criterion"]
    assert not (tmp_path / "test.spacy").exists()


def test_choose_spans_prefers_evaluated_then_longer() -> None:
    # "greater than or equal to 10 g/dL": two overlapping Values and a Multiplier.
    entities = parse_ann(
        "T1\tValue 0 12;25 32\tgreater than 10 g/dL\n"
        "T2\tValue 16 32\tequal to 10 g/dL\n"
        "T3\tMultiplier 0 12\tgreater than\n"
        "T4\tNon-query-able 40 45\tx\n"
    )
    assert [e.id for e in choose_spans(entities)] == ["T1"]


def test_line_docs_one_doc_per_line_with_flat_entities() -> None:
    import spacy

    nlp = customise_tokenizer(spacy.blank("en"))
    text = "History of pulmonary embolism\nHb<10g/dL"
    document = BratDocument(
        "NCT1_exc",
        text,
        tuple(
            parse_ann(
                "T1\tCondition 11 29\tpulmonary embolism\n"
                "T2\tMeasurement 30 32\tHb\n"
                "T3\tValue 32 39\t<10g/dL\n"
                "T4\tCondition 20 35\tcrosses a line\n"
            )
        ),
    )
    docs = line_docs(nlp, document)
    assert [[(e.label_, e.text) for e in d.ents] for d in docs] == [
        [("Condition", "pulmonary embolism")],
        [("Measurement", "Hb"), ("Value", "<10g/dL")],
    ]


def test_evaluate_brat_maps_line_offsets_back(tmp_path: Path) -> None:
    import spacy

    trial = next(f"NCT{n:08d}" for n in range(99) if split_of(f"NCT{n:08d}") == "test")
    text = "Age 18\r\nNo asthma or asthma attacks\n"
    (tmp_path / f"{trial}_exc.txt").write_bytes(text.encode())
    (tmp_path / f"{trial}_exc.ann").write_text(
        "T1\tCondition 11 17\tasthma\n"
        "T2\tCondition 21 35\tasthma attacks\n"
        "T3\tNegation 8 10\tNo\n"
    )
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "Condition", "pattern": "asthma"}])
    report = evaluate_brat(tmp_path, "test", nlp)
    counts = report.per_type["Condition"]
    assert (counts.n_gold, counts.n_pred, counts.strict, counts.relaxed) == (2, 2, 1, 2)
    assert "Negation" not in report.per_type


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrialmatchError, match="trialmatch train criteria-ner"):
        load_criteria_ner(tmp_path)


@pytest.mark.parametrize(
    ("text", "label", "covering"),
    [
        ("History of pulmonary embolism", "Condition", "pulmonary embolism"),
        ("Hemoglobin ≥ 9 g/dL", "Measurement", "Hemoglobin"),
        ("Hemoglobin ≥ 9 g/dL", "Value", "9 g/dL"),
        ("Age 18 years or older", "Value", "18 years"),
        ("Currently taking warfarin", "Drug", "warfarin"),
        ("Pregnant or breastfeeding women", "Condition", "Pregnant"),
    ],
)
def test_model_tags_obvious_cases(
    criteria_ner: Language, text: str, label: str, covering: str
) -> None:
    [mentions] = predict_mentions(criteria_ner, [text])
    start = text.index(covering)
    end = start + len(covering)
    assert any(
        m.label == label and m.start <= start and end <= m.end for m in mentions
    ), mentions


def test_model_labels_are_chia_types(criteria_ner: Language) -> None:
    labels = set(criteria_ner.get_pipe("ner").labels)
    assert set(EVALUATED_TYPES) <= labels


@pytest.mark.parametrize(
    ("name", "split", "message"),
    [
        ("missing", "all", "no such directory"),
        ("empty", "all", "no .txt file with a matching .ann"),
        ("train_only", "test", "no document of the test part"),
        ("train_only", "dev", "no document of the dev part"),
    ],
)
def test_eval_bad_directory_is_one_line_error(
    tmp_path: Path, name: str, split: str, message: str
) -> None:
    directory = tmp_path / name
    if name != "missing":
        directory.mkdir()
        (directory / "lonely.txt").write_text("no ann beside me")
    if name == "train_only":
        trial = next(
            f"NCT{n:08d}" for n in range(99) if split_of(f"NCT{n:08d}") == "train"
        )
        (directory / f"{trial}_inc.txt").write_text("Age 18\n")
        (directory / f"{trial}_inc.ann").write_text("T1\tValue 4 6\t18\n")
    result = CliRunner().invoke(
        app, ["eval", "criteria", "--brat", str(directory), "--split", split]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, TrialmatchError)
    assert message in str(result.exception)


@pytest.mark.skipif(not ner_available(), reason="no trained criteria NER")
@pytest.mark.slow
def test_eval_criteria_on_chia_test_part(shared_data: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "criteria",
            "--brat",
            str(shared_data / "chia-dev"),
            "--split",
            "test",
        ],
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"criteria: strict_f1=\d\.\d{3} relaxed_f1=\d\.\d{3} n_gold=\d+", last
    )


def test_training_without_vectors_names_their_command(tmp_path: Path) -> None:
    with pytest.raises(TrialmatchError, match="train criteria-vectors"):
        train_criteria_ner(tmp_path, tmp_path / "out", vectors_dir=tmp_path / "none")


@pytest.mark.parametrize(
    ("final", "train_path", "steps", "patience"),
    [
        (False, "parts/train.spacy", None, None),
        (True, "parts", FINAL_STEPS, 0),
    ],
)
def test_final_training_reads_train_and_dev_for_fixed_steps(
    tmp_path: Path,
    final: bool,
    train_path: str,
    steps: int | None,
    patience: int | None,
) -> None:
    # One trial of each part, test included: the directory read as the final
    # training corpus must hold the train and dev DocBins only.
    trials = {split_of(f"NCT{n:08d}"): f"NCT{n:08d}" for n in range(60)}
    parts = tmp_path / "parts"
    parts.mkdir()
    paths = write_training_data(
        [BratDocument(f"{t}_inc", "Age 18", ()) for t in trials.values()], parts
    )
    settings = training_settings(paths, tmp_path / "vectors", final=final)
    assert settings["paths.train"] == str(tmp_path / train_path)
    assert settings["paths.dev"] == str(parts / "dev.spacy")
    assert settings.get("training.max_steps") == steps
    assert settings.get("training.patience") == patience
    assert sorted(p.name for p in parts.iterdir()) == ["dev.spacy", "train.spacy"]
