"""Throughput of the criteria stage: criteria parsed per second on one core."""

from __future__ import annotations

import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from pipeline.criteria import parse_criteria
from pipeline.criteria.ingest import read_listing
from pipeline.criteria.segment import segment_regions
from pipeline.schema import CriterionKind

SEED = Path(__file__).resolve().parents[2] / "trial_docs" / "NCT05262335.txt"
_WARM_UP = 64


@dataclass(frozen=True)
class BenchResult:
    """One timed run."""

    workload: str
    n_criteria: int
    seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        """Criteria per CPU second of this process: one core's throughput even
        when other processes share the machine."""
        return self.n_criteria / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def per_wall_second(self) -> float:
        return self.n_criteria / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"criteria: {self.per_second:,.0f} criteria/s on one core "
            f"({self.n_criteria} criteria, {self.cpu_seconds:.2f} s CPU, "
            f"{self.seconds:.2f} s wall = {self.per_wall_second:,.0f}/s wall; "
            f"{self.workload})"
        )


def chia_workload(directory: Path, limit: int) -> list[tuple[str, CriterionKind]]:
    """Chia's criteria, one a line (Kury et al. 2020), kind from the file name."""
    out: list[tuple[str, CriterionKind]] = []
    for path in sorted(directory.glob("*.txt")):
        kind: CriterionKind = "exclusion" if path.stem.endswith("_exc") else "inclusion"
        text = path.read_text(encoding="utf-8", errors="replace")
        out.extend((line.strip(), kind) for line in text.splitlines() if line.strip())
        if len(out) >= limit:
            break
    return out[:limit]


def seed_workload(limit: int) -> list[tuple[str, CriterionKind]]:
    """The seed's criteria repeated up to ``limit`` (when Chia is absent)."""
    listing = read_listing(SEED)
    regions = [(r.kind, r.start, r.end) for r in listing.regions]
    items = [
        (listing.source[s.start : s.end], s.kind)
        for s in segment_regions(listing.source, regions)
    ]
    return [items[i % len(items)] for i in range(limit)]


def bench_criteria(workload: list[tuple[str, CriterionKind]], name: str) -> BenchResult:
    """Time :func:`~pipeline.criteria.parse_criteria` over ``workload``.

    One BLAS/OpenMP thread; the pipeline is built and warmed up before the
    clock starts, so the figure is steady-state throughput.
    """
    with threadpool_limits(limits=1):
        parse_criteria([text for text, _ in workload[:_WARM_UP]], "inclusion")
        started, cpu_started = time.perf_counter(), time.process_time()
        for kind in ("inclusion", "exclusion"):
            parse_criteria([text for text, k in workload if k == kind], kind)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    return BenchResult(name, len(workload), seconds, cpu_seconds)


def bench_criteria_runs(
    workload: list[tuple[str, CriterionKind]], name: str, runs: int
) -> list[BenchResult]:
    """:func:`bench_criteria` ``runs`` times; several runs each in a fresh process.

    A fresh process starts from an empty vocabulary and tokenizer cache, as a
    user's ``trialmatch parse`` does, so every run measures the same thing (a
    second run in one process would meet every word already known). One run
    is timed in this process; several follow one another, one process at a
    time.
    """
    if runs == 1:
        return [bench_criteria(workload, name)]
    context = multiprocessing.get_context("spawn")
    results = []
    for _ in range(runs):
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            results.append(pool.submit(bench_criteria, workload, name).result())
    return results


def median_line(results: list[BenchResult]) -> str:
    """The median throughput of several runs, with every run's figure: on a
    shared machine the spread is part of the result."""
    rates = [r.per_second for r in results]
    each = ", ".join(f"{rate:,.0f}" for rate in rates)
    return (
        f"criteria: median {statistics.median(rates):,.0f} criteria/s on one core "
        f"over {len(rates)} runs ({each})"
    )
