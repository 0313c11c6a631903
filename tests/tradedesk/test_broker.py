"""The embedded defaults' filesystem broker: a message is invisible to consumers until it is whole (kombu's own
transport shows an empty file first, whose read stops the worker), and messages still go round."""

from __future__ import annotations

import os
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

from tradedesk import broker


@pytest.fixture
def channel(tmp_path: Path) -> Any:
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    connection = Connection("filesystem://", transport=broker.Transport, transport_options=options)
    yield connection.default_channel
    connection.release()


def test_a_message_is_invisible_to_consumers_until_it_is_whole(channel: Any, monkeypatch: Any) -> None:
    seen_meanwhile: list[Any] = []
    replace = os.replace

    def checking_replace(source: str, target: str) -> None:
        with open(source, "rb") as handle:
            assert handle.read()  # written in full before it is renamed into place
        try:
            seen_meanwhile.append(channel._get("celery"))
        except Empty:
            seen_meanwhile.append(None)
        replace(source, target)

    monkeypatch.setattr(broker.os, "replace", checking_replace)
    channel._put("celery", {"body": "x" * 10_000})
    assert seen_meanwhile == [None]
    assert channel._get("celery") == {"body": "x" * 10_000}
    assert os.listdir(channel.data_folder_in) == []


def test_messages_go_round(channel: Any) -> None:
    for index in range(3):
        channel._put("celery", {"n": index})
    assert channel._size("celery") == 3
    assert sorted(channel._get("celery")["n"] for _ in range(3)) == [0, 1, 2]
    with pytest.raises(Empty):
        channel._get("celery")
