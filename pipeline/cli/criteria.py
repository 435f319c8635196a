"""Commands of the criteria stage."""

from pipeline.cli import app, bench_app, eval_app  # noqa: F401
