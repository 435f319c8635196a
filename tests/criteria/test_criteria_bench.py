"""The criteria benchmark's summary of several runs."""

from __future__ import annotations

import statistics

import pytest

from pipeline.criteria.bench import BenchResult, median_line


@pytest.mark.parametrize(
    "cpu_seconds",
    [[1.0], [1.0, 0.5, 2.0], [0.8, 1.25], [2.0, 2.0, 1.0, 4.0, 0.5]],
)
def test_median_line_gives_every_run_and_the_median(cpu_seconds: list[float]) -> None:
    results = [BenchResult("w", 1000, 9.0, cpu) for cpu in cpu_seconds]
    rates = [1000 / cpu for cpu in cpu_seconds]
    line = median_line(results)
    assert f"median {statistics.median(rates):,.0f} criteria/s" in line
    assert f"over {len(rates)} runs" in line
    assert line.endswith("(" + ", ".join(f"{r:,.0f}" for r in rates) + ")")
