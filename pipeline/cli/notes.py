"""Commands of the notes stage."""

from pipeline.cli import app, bench_app, eval_app  # noqa: F401
