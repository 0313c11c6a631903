"""Push on Redis pub/sub: a committed change of a project's counter is announced once committed (never for a
rolled-back one), and the engine host's snapshots are stored and announced by name, so a web host without
engine files shows the engine's prices."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from django.db import transaction

from execution import push
from execution.ingest import prices
from orders.services.versions import project_versions_bump

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def subscriber(settings: Any) -> Any:
    if not settings.TRADEDESK_PUSH_URL:
        pytest.skip("needs Redis (TRADEDESK_PUSH_URL or a redis:// broker)")
    client = redis.Redis.from_url(settings.TRADEDESK_PUSH_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(push.push_channel())
    pubsub.get_message(timeout=1.0)
    yield pubsub
    pubsub.close()
    client.close()


def messages(pubsub: Any, wait: float = 1.0) -> list[dict[str, Any]]:
    found, deadline = [], time.monotonic() + wait
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            found.append(orjson.loads(message["data"]))
    return found


def test_a_committed_change_is_announced_after_its_commit_and_a_rolled_back_one_never(
    subscriber: Any, project: Any
) -> None:
    messages(subscriber, wait=0.2)  # the fixtures' own (the membership's access message)
    with transaction.atomic():
        project_versions_bump([project.pk])
        assert messages(subscriber, wait=0.3) == []  # not before the commit
    assert messages(subscriber) == [{"projects": [project.pk]}]

    with pytest.raises(RuntimeError), transaction.atomic():
        project_versions_bump([project.pk])
        raise RuntimeError("rolled back")
    assert messages(subscriber, wait=0.5) == []


def test_snapshots_are_stored_and_announced_by_name_and_read_where_files_are_not_local(
    subscriber: Any, execution_root: Path, settings: Any
) -> None:
    folder = execution_root / "engines" / "paper"
    folder.mkdir(parents=True)
    snapshot = {
        "run_id": "r-p",
        "time": "2026-12-07T15:00:00Z",
        "prices": [{"symbol": "AAPL", "last": 190.25}],
    }
    (folder / "prices.json").write_text(json.dumps(snapshot))
    (folder / "account.json").write_text(json.dumps({"cash": 1000}))

    assert sorted(push.snapshots_publish()) == [("paper", "account"), ("paper", "prices")]
    assert sorted(m["snapshot"]["name"] for m in messages(subscriber)) == ["account", "prices"]
    assert push.snapshots_publish() == []  # unchanged files are not sent again

    settings.TRADEDESK_ENGINE_FILES_LOCAL = False
    (folder / "prices.json").unlink()  # the web host sees no engine folder
    read = prices.prices_snapshot("paper")
    assert read is not None and read.quotes["AAPL"].last == Decimal("190.25")
    version, data = push.snapshot_read("paper", "account")  # type: ignore[misc]
    assert json.loads(data) == {"cash": 1000} and version


def test_an_access_change_is_announced_once_committed(subscriber: Any, user: Any, project: Any) -> None:
    messages(subscriber, wait=0.2)  # the fixtures' own
    with transaction.atomic():
        project.members.remove(user)
        assert messages(subscriber, wait=0.3) == []
    assert messages(subscriber) == [{"access": True}]
