"""The statistical entity extractor of the criteria stage, trained on Chia.

A spaCy ``ner`` component (transition-based, Lample et al. 2016 / Honnibal &
Montani's spaCy 3 architecture over a hash-embedding CNN with static word
vectors from :mod:`pipeline.criteria.vectors`, ``ner.cfg``) typed by Chia's
OMOP domains (Kury et al., Scientific Data 2020). This module holds

* BRAT standoff reading (``.txt``/``.ann`` pairs, text-bound ``T`` lines only),
* the deterministic by-trial train/dev/test split of the corpus,
* the conversion of BRAT documents to spaCy training data (one Doc per line:
  Chia has one criterion a line, and the stage tags one criterion at a time),
* training with spaCy's own loop (``spacy.cli.train.train``) and loading.

Discontinuous entities (``T5\tCondition 10 15;20 30\t...``) are reduced to
their extent, first fragment start to last fragment end, both for training
and for scoring: a token tagger can only predict contiguous spans.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import compile_infix_regex

from pipeline import errors
from pipeline.criteria.evaluation import Mention, Report, score
from pipeline.criteria.retype import PIPE_NAME, SpanRetyper, span_features

Split = Literal["train", "dev", "test"]

#: The eight types the Chia benchmark scores (Kury et al. 2020, Fu et al. 2023).
EVALUATED_TYPES: tuple[str, ...] = (
    "Condition",
    "Drug",
    "Procedure",
    "Measurement",
    "Observation",
    "Person",
    "Value",
    "Temporal",
)
#: Every Chia entity type of the schema's ``Domain``; the model learns them all.
TRAINED_TYPES: tuple[str, ...] = (
    *EVALUATED_TYPES,
    "Device",
    "Visit",
    "Negation",
    "Qualifier",
    "Multiplier",
    "Reference_point",
    "Mood",
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = ROOT / "models" / "criteria_ner"
DEFAULT_VECTORS_DIR = ROOT / "models" / "criteria_vectors"
CONFIG_PATH = Path(__file__).with_name("ner.cfg")
TRAIN_COMMAND = "trialmatch train criteria-ner --chia ../shared/data/chia-dev --final"
VECTORS_COMMAND = (
    "trialmatch train criteria-vectors --chia ../shared/data/chia-dev"
    " --lct ../shared/data/lct-dev --mtsamples ../shared/data/mtsamples-401.csv"
)

# Percent of trials in the test and dev parts (the rest trains).
_TEST_PERCENT = 20
_DEV_PERCENT = 10

#: Steps of the final training on train+dev (``final=True``): the best
#: checkpoint's step of the dev-selected run (4,600 of at most 5,000), scaled by
#: the extra words (train+dev / train = 1.134), so the final model sees its
#: data as many times; rounded to the evaluation interval.
FINAL_STEPS = 5200

# Structural punctuation that criteria glue to words ("Hb<10g/dL",
# "NIRS(Intracoronary", "AST/ALT"); splitting it lets entity edges fall on
# token boundaries: 1.5% of Chia's entities end inside a token with spaCy's
# English rules, 0.6% with these infixes added.
_EXTRA_INFIXES = (r"[()\[\]<>=≤≥/]",)

_LINE = re.compile(r"[^\r\n]+")


@dataclass(frozen=True)
class BratEntity:
    """A text-bound annotation; ``start``/``end`` is the extent of its fragments."""

    id: str
    label: str
    start: int
    end: int
    fragments: tuple[tuple[int, int], ...]
    text: str

    @property
    def discontinuous(self) -> bool:
        return len(self.fragments) > 1

    def mention(self) -> Mention:
        return Mention(self.label, self.start, self.end)


@dataclass(frozen=True)
class BratDocument:
    """One ``.txt`` file and its entities."""

    doc_id: str
    text: str
    entities: tuple[BratEntity, ...]

    @property
    def trial_id(self) -> str:
        return trial_id(self.doc_id)


def parse_ann(ann: str, source: Path | str = "<ann>") -> list[BratEntity]:
    """Read the ``T`` lines of a BRAT ``.ann`` text; relations, ``*`` groups,
    attributes and notes are skipped. A malformed ``T`` line is an error
    naming ``source`` and the line number."""
    entities = []
    for number, line in enumerate(ann.splitlines(), start=1):
        if not line.startswith("T"):
            continue
        tid, middle, text = [*line.split("\t", 2), "", ""][:3]
        label, _, offsets = middle.partition(" ")
        try:
            fragments = tuple(
                (int(a), int(b))
                for a, b in (fragment.split() for fragment in offsets.split(";"))
            )
        except ValueError:
            raise errors.bad_brat_line(source, number, line) from None
        start, end = fragments[0][0], fragments[-1][1]
        entities.append(BratEntity(tid, label, start, end, fragments, text))
    return entities


def read_brat_document(txt_path: Path) -> BratDocument:
    """Read ``X.txt`` and ``X.ann``. Offsets count characters of the file as
    stored (``\\r\\n`` is two), so newlines are not translated; entities whose
    extent falls outside the text are dropped."""
    with txt_path.open(encoding="utf-8", errors="replace", newline="") as f:
        text = f.read()
    ann_path = txt_path.with_suffix(".ann")
    with ann_path.open(encoding="utf-8", errors="replace") as f:
        ann = f.read()
    entities = tuple(
        e for e in parse_ann(ann, ann_path) if 0 <= e.start < e.end <= len(text)
    )
    return BratDocument(txt_path.stem, text, entities)


def brat_text_paths(directory: Path) -> list[Path]:
    """The ``.txt`` files of ``directory`` that have an ``.ann`` beside them."""
    if not directory.is_dir():
        raise errors.brat_dir_missing(directory)
    paths = sorted(
        p for p in directory.glob("*.txt") if p.with_suffix(".ann").is_file()
    )
    if not paths:
        raise errors.no_brat_pairs(directory)
    return paths


def read_brat_dir(directory: Path) -> list[BratDocument]:
    """Every ``.txt``/``.ann`` pair of ``directory``, sorted by name."""
    return [read_brat_document(p) for p in brat_text_paths(directory)]


def trial_id(doc_id: str) -> str:
    """``NCT00094861_inc`` -> ``NCT00094861``: Chia splits a trial in two files."""
    return doc_id.split("_", 1)[0]


def split_of(trial: str) -> Split:
    """The part of the corpus a trial belongs to, fixed by a hash of its id.

    By trial, so a trial's inclusion and exclusion files (and its repeated
    boilerplate) never straddle train and test. sha256 is stable across
    Python runs and machines, unlike ``hash()``.
    """
    bucket = int(hashlib.sha256(trial.encode("utf-8")).hexdigest(), 16) % 100
    if bucket < _TEST_PERCENT:
        return "test"
    if bucket < _TEST_PERCENT + _DEV_PERCENT:
        return "dev"
    return "train"


def criterion_lines(text: str) -> list[tuple[int, int]]:
    """Character spans of the non-blank lines of ``text``, whitespace trimmed.

    Chia writes one criterion a line, ended by ``\\n``, ``\\r\\n`` or a bare
    ``\\r``.
    """
    spans = []
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if stripped:
            start = match.start() + len(line) - len(line.lstrip())
            spans.append((start, start + len(stripped)))
    return spans


def choose_spans(
    entities: Iterable[BratEntity], labels: Sequence[str] = TRAINED_TYPES
) -> list[BratEntity]:
    """Non-overlapping entities to teach a tagger that predicts flat spans.

    Chia nests and overlaps entities ("greater than or equal to 10 g/dL" is
    two Values, a Qualifier sits inside a Condition). Greedy policy: the eight
    evaluated types first, then longer extents, then earlier starts; an entity
    overlapping one already kept is dropped.
    """
    ranked = sorted(
        (e for e in entities if e.label in labels),
        key=lambda e: (e.label not in EVALUATED_TYPES, e.start - e.end, e.start),
    )
    kept: list[BratEntity] = []
    for entity in ranked:
        if all(entity.end <= k.start or k.end <= entity.start for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.start)


def line_docs(nlp: Language, document: BratDocument) -> list[Doc]:
    """One annotated Doc per criterion line of ``document``.

    Entities crossing a line end are dropped; an edge inside a token is
    widened to the token (``alignment_mode="expand"``).
    """
    docs = []
    for start, end in criterion_lines(document.text):
        doc = nlp.make_doc(document.text[start:end])
        inside = [e for e in document.entities if start <= e.start and e.end <= end]
        spans = []
        for entity in choose_spans(inside):
            span = doc.char_span(
                entity.start - start,
                entity.end - start,
                label=entity.label,
                alignment_mode="expand",
            )
            if span is not None and all(
                span.end <= s.start or s.end <= span.start for s in spans
            ):
                spans.append(span)
        doc.ents = spans
        docs.append(doc)
    return docs


@spacy.registry.callbacks("trialmatch.criteria_tokenizer.v1")
def make_tokenizer_callback() -> Callable[[Language], Language]:
    """``[initialize.before_init]`` hook adding :data:`_EXTRA_INFIXES`; the
    rules are saved with the model, so loading needs no hook."""

    def add_infixes(nlp: Language) -> Language:
        return customise_tokenizer(nlp)

    return add_infixes


def customise_tokenizer(nlp: Language) -> Language:
    """Add the criteria infixes to ``nlp``'s tokenizer (in place)."""
    infixes = [*nlp.Defaults.infixes, *_EXTRA_INFIXES]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def write_training_data(
    documents: Iterable[BratDocument], directory: Path
) -> dict[Split, Path]:
    """Write the ``train.spacy`` and ``dev.spacy`` DocBins; test trials are
    skipped."""
    nlp = customise_tokenizer(spacy.blank("en"))
    bins: dict[Split, DocBin] = {"train": DocBin(), "dev": DocBin()}
    for document in documents:
        part = split_of(document.trial_id)
        if part in bins:
            for doc in line_docs(nlp, document):
                bins[part].add(doc)
    paths: dict[Split, Path] = {}
    for part, doc_bin in bins.items():
        paths[part] = directory / f"{part}.spacy"
        doc_bin.to_disk(paths[part])
    return paths


def train_criteria_ner(
    chia_dir: Path,
    out_dir: Path = DEFAULT_MODEL_DIR,
    *,
    config: Path = CONFIG_PATH,
    overrides: dict[str, object] | None = None,
    vectors_dir: Path = DEFAULT_VECTORS_DIR,
    final: bool = False,
) -> Path:
    """Train the extractor on the train part of ``chia_dir`` and save it.

    spaCy's training loop with ``config`` (fixed seed, early stopping on the
    dev part's entity F1, capped steps); the best checkpoint on dev replaces
    ``out_dir``. ``final=True`` trains on the train and dev parts together
    for :data:`FINAL_STEPS` steps and saves the last checkpoint (the usual
    last step of model selection: settings chosen on dev, then refit on all
    the non-test data; dev scores of such a model are no longer held-out).
    The test part is never read by training. ``vectors_dir`` holds the
    static vectors (:mod:`pipeline.criteria.vectors`), which are copied into
    the model.
    """
    from spacy.cli.train import train

    if not (vectors_dir / "config.cfg").is_file():
        raise errors.model_missing(vectors_dir, VECTORS_COMMAND)
    documents = read_brat_dir(chia_dir)
    with tempfile.TemporaryDirectory(prefix="criteria-ner-") as tmp:
        work = Path(tmp)
        parts = work / "parts"
        parts.mkdir()
        paths = write_training_data(documents, parts)
        settings = {
            **training_settings(paths, vectors_dir, final=final),
            **(overrides or {}),
        }
        train(config, work / "output", overrides=settings, use_gpu=-1)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        checkpoint = "model-last" if final else "model-best"
        shutil.copytree(work / "output" / checkpoint, out_dir)
    _forget_training_paths(out_dir / "config.cfg")
    add_span_retyper(out_dir, documents, final=final)
    return out_dir


def add_span_retyper(
    model_dir: Path, documents: Iterable[BratDocument], *, final: bool = False
) -> Path:
    """Fit a :class:`~pipeline.criteria.retype.SpanRetyper` on the gold spans
    of the train part (train and dev with ``final``, as the NER was) and save
    it into the model at ``model_dir`` as its last pipe (after ``ner``).

    The spans are those :func:`line_docs` teaches the NER, tokenised by the
    model's own tokenizer; the test part is never read.
    """
    parts = {"train", "dev"} if final else {"train"}
    nlp = spacy.load(model_dir)
    spans: list[list[str]] = []
    labels: list[str] = []
    for document in documents:
        if split_of(document.trial_id) in parts:
            for doc in line_docs(nlp, document):
                for ent in doc.ents:
                    spans.append(span_features(doc, ent.start, ent.end))
                    labels.append(ent.label_)
    if PIPE_NAME in nlp.pipe_names:
        nlp.remove_pipe(PIPE_NAME)
    pipe = nlp.add_pipe("trialmatch_span_retyper", name=PIPE_NAME, last=True)
    pipe.retyper = SpanRetyper().fit(spans, labels)
    nlp.to_disk(model_dir)
    _forget_training_paths(model_dir / "config.cfg")
    return model_dir


def training_settings(
    paths: dict[Split, Path], vectors_dir: Path, *, final: bool
) -> dict[str, object]:
    """The config overrides of one training on the DocBins ``paths`` that
    :func:`write_training_data` wrote: corpora and vectors paths, and for
    ``final`` their whole directory as training corpus (spaCy's reader takes
    every ``.spacy`` file of a directory, so train and dev) with
    :data:`FINAL_STEPS` steps, no early stopping and no evaluation in between
    (dev is training data then; its scores would mean nothing)."""
    settings: dict[str, object] = {
        "paths.train": str(paths["train"].parent if final else paths["train"]),
        "paths.dev": str(paths["dev"]),
        "paths.vectors": str(vectors_dir),
    }
    if final:
        settings |= {
            "training.max_steps": FINAL_STEPS,
            "training.patience": 0,
            "training.eval_frequency": FINAL_STEPS,
        }
    return settings


def _forget_training_paths(config_path: Path) -> None:
    """Null the temporary DocBin paths and the vectors path spaCy wrote into
    the saved config, so two trainings give byte-identical model directories
    (the vectors themselves are saved in the model's vocab)."""
    from spacy.util import load_config

    config = load_config(config_path, interpolate=False)
    for key in ("train", "dev", "vectors"):
        config["paths"][key] = None
    config.to_disk(config_path)


def load_criteria_ner(path: Path | None = None) -> Language:
    """The trained extractor saved at ``path`` (default ``models/criteria_ner``)."""
    path = DEFAULT_MODEL_DIR if path is None else path
    if not (path / "config.cfg").is_file():
        raise errors.model_missing(path, TRAIN_COMMAND)
    return spacy.load(path)


def predict_mentions(
    nlp: Language, texts: Iterable[str], *, batch_size: int = 256
) -> list[list[Mention]]:
    """Entities of each text, offsets into that text, tagged one line at a time."""
    texts = list(texts)
    lines = [
        (i, start, end)
        for i, t in enumerate(texts)
        for start, end in criterion_lines(t)
    ]
    result: list[list[Mention]] = [[] for _ in texts]
    docs = nlp.pipe((texts[i][s:e] for i, s, e in lines), batch_size=batch_size)
    for (i, start, _), doc in zip(lines, docs, strict=True):
        result[i].extend(
            Mention(ent.label_, start + ent.start_char, start + ent.end_char)
            for ent in doc.ents
        )
    return result


def evaluate_brat(
    directory: Path,
    split: Literal["all", "dev", "test"] = "all",
    nlp: Language | None = None,
) -> Report:
    """Score ``nlp`` (default: the committed model) on the BRAT pairs of
    ``directory`` for the eight Chia types.

    ``split="test"`` keeps only the trials :func:`split_of` puts in the test
    part, which training never reads; ``split="dev"`` the dev part, the one to
    choose between variants on. The directory is checked before the model is
    loaded.
    """
    documents = read_brat_dir(directory)
    if split != "all":
        documents = [d for d in documents if split_of(d.trial_id) == split]
        if not documents:
            raise errors.empty_split(directory, split)
    nlp = load_criteria_ner() if nlp is None else nlp
    predicted = predict_mentions(nlp, (d.text for d in documents))
    gold = ([e.mention() for e in d.entities] for d in documents)
    return score(zip(gold, predicted, strict=True), EVALUATED_TYPES)
