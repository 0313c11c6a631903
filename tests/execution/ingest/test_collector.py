"""The garbage collector pause around a chunk: off inside, counted across threads, as before after the last."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from execution.ingest import apply as apply_module
from execution.ingest import events as events_module
from execution.ingest.collector import collector_paused
from orders.models import TradeOrder
from tests.execution.ingest.event_lines import ev, line, order, write

__all__ = ["order"]  # the fixture the ingest test uses


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_collector_comes_back_when_the_last_thread_leaves_and_after_an_error() -> None:
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert not gc.isenabled()  # the other thread's chunk is still being applied
    leave.set()
    thread.join(10)
    assert gc.isenabled()


@pytest.mark.django_db
def test_a_chunk_is_applied_with_the_collector_off(
    tmp_path: Path, order: TradeOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.enable()
    seen: list[bool] = []
    apply = apply_module.apply_parsed

    def observed(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return apply(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(apply_module, "apply_parsed", observed)
    path = write(tmp_path / "e.jsonl", line(**ev(order.client_order_id, "Submitted", 1)))
    assert events_module.ingest_file(path).applied == 1
    assert seen == [False] and gc.isenabled()
