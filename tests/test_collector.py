"""Pausing the cyclic garbage collector."""

import gc

import pytest

from pipeline.collector import collector_paused


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_off_inside_and_restored_after(enabled_before: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled_before else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled_before
    finally:
        (gc.enable if was else gc.disable)()


def test_restored_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_freeze_survivors_moves_what_is_alive_out_of_the_collector() -> None:
    before = gc.get_freeze_count()
    with collector_paused(freeze_survivors=True):
        alive = [[i] for i in range(100)]
    assert gc.get_freeze_count() >= before + len(alive)
    gc.unfreeze()
