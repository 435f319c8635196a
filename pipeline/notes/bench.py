"""Throughput of the notes pipeline against medspaCy's default pipeline.

Both run in one process on the same notes: (a) :func:`build_notes_nlp` and
(b) ``medspacy.load()`` (PyRuSH sentences, target matcher, default ConText)
given the same vocabulary terms as target rules. Speed is characters of note
text per second of ``nlp.pipe``; memory is the peak resident set size of this
process and of any worker processes.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import errors
from pipeline.textio import read_user_text
from pipeline.vocabulary import load_vocabulary

NOTES_LIMIT_BYTES = 200_000_000


@dataclass(frozen=True)
class BenchResult:
    """Wall time, CPU time and output size of one pipeline over the notes."""

    system: str
    characters: int
    seconds: float
    cpu_seconds: float
    mentions: int
    processes: int

    @property
    def chars_per_second(self) -> float:
        """Wall-clock throughput of all processes together."""
        return self.characters / self.seconds if self.seconds else float("inf")

    @property
    def chars_per_cpu_second(self) -> float:
        """Throughput per core: characters per CPU second, unaffected by what
        else runs on a shared machine (wall-clock figures are)."""
        if not self.cpu_seconds:
            return float("inf")
        return self.characters / self.cpu_seconds


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def read_note_texts(path: Path, column: str, limit: int | None = None) -> list[str]:
    """The non-empty ``column`` values of a CSV file, at most ``limit`` of them."""
    text = read_user_text(path, NOTES_LIMIT_BYTES)
    csv.field_size_limit(NOTES_LIMIT_BYTES)
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise errors.no_text_column(path, column)
    notes = [row[column] for row in reader if (row.get(column) or "").strip()]
    if not notes:
        raise errors.no_text_column(path, column)
    return notes[:limit] if limit is not None else notes


def bench_trialmatch(
    notes: Sequence[str], n_process: int = 1, batch_size: int = 64
) -> BenchResult:
    """Run :func:`pipeline.notes.engine.build_notes_nlp` over ``notes``."""
    from pipeline.notes.engine import build_notes_nlp

    nlp = build_notes_nlp()
    nlp(notes[0])  # one-time costs (matcher tables, regex caches) are not throughput
    began, began_cpu = time.perf_counter(), _cpu_seconds()
    if n_process == 1:
        mentions = _count_mentions(list(notes), batch_size)
    else:
        # Workers return counts, not Docs: spaCy's own n_process pickles every
        # Doc back, and span values (MeasuredValue) are not msgpack-able.
        chunks = [list(notes[i::n_process]) for i in range(n_process)]
        pool = multiprocessing.get_context("fork").Pool(n_process)
        counts = pool.starmap(_count_mentions, [(c, batch_size) for c in chunks])
        pool.close()
        pool.join()  # reaped workers' CPU time shows in RUSAGE_CHILDREN
        mentions = sum(counts)
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - began_cpu
    characters = sum(map(len, notes))
    return BenchResult("trialmatch", characters, seconds, cpu, mentions, n_process)


def _count_mentions(notes: list[str], batch_size: int) -> int:
    from pipeline.notes.engine import build_notes_nlp

    nlp = build_notes_nlp()
    return sum(
        len(doc.spans["mentions"]) for doc in nlp.pipe(notes, batch_size=batch_size)
    )


def bench_medspacy(notes: Sequence[str], batch_size: int = 64) -> BenchResult:
    """Run medspaCy's default pipeline, the vocabulary's terms as target rules."""
    import medspacy
    from loguru import logger
    from medspacy.target_matcher import TargetRule

    logger.remove()  # medspaCy logs every PyRuSH call at DEBUG level
    nlp = medspacy.load()
    matcher = nlp.get_pipe("medspacy_target_matcher")
    matcher.add(
        [TargetRule(term, concept.id) for term, concept in load_vocabulary().terms()]
    )
    nlp(notes[0])
    began, began_cpu = time.perf_counter(), _cpu_seconds()
    mentions = sum(len(doc.ents) for doc in nlp.pipe(notes, batch_size=batch_size))
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - began_cpu
    return BenchResult("medspacy", sum(map(len, notes)), seconds, cpu, mentions, 1)


def peak_memory_mb() -> float:
    """Peak resident memory (MB) of this process or its largest worker."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # Linux reports kilobytes


def report_lines(results: Sequence[BenchResult], notes: Sequence[str]) -> list[str]:
    """The bench report: one line per system, the speed ratio, peak memory."""
    lines = [f"notes: {len(notes)} characters: {sum(map(len, notes)):,}"]
    for r in results:
        lines.append(
            f"{r.system}: {r.chars_per_cpu_second:,.0f} chars/s per core "
            f"(cpu {r.cpu_seconds:.2f} s; wall {r.seconds:.2f} s = "
            f"{r.chars_per_second:,.0f} chars/s, {r.processes} process(es)) "
            f"mentions={r.mentions}"
        )
    if len(results) == 2:
        ours, theirs = results
        ratio = ours.chars_per_cpu_second / theirs.chars_per_cpu_second
        wall = ours.chars_per_second / theirs.chars_per_second
        lines.append(f"ratio: {ratio:.1f}x per core ({wall:.1f}x wall-clock)")
    lines.append(f"peak memory: {peak_memory_mb():.0f} MB")
    return lines
