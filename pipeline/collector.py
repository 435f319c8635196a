"""Pausing Python's cyclic garbage collector around allocation-heavy loops."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, freeze_survivors: bool = False) -> Iterator[None]:
    """Disable the cyclic collector for the block, then restore it.

    Reference counting still frees acyclic objects; what the collector saves
    is its repeated re-scans of the growing set of live objects. With
    ``freeze_survivors`` what is alive at the end is moved out of the
    collector's generations (``gc.freeze``) before it resumes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze_survivors:
            gc.freeze()
        if enabled:
            gc.enable()
