"""Commands of the match stage."""

from pipeline.cli import app, bench_app, eval_app  # noqa: F401
