"""The ticket's quote: a valid symbol the engine does not price is subscribed through the one subscribe path,
on the engine host from its queue (the web request writes no engine file), once per symbol and user a minute
and within the per-user rate; the simulator then prices it and the ticket shows bid × ask."""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery import current_app
from django.test import Client

from execution import actions, routing, tasks
from execution.engine import process as engines
from execution.ingest import prices
from orders.models import Project
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the web side put on the engine host's queue (nothing runs it until the test does)."""
    sent: list[dict[str, Any]] = []
    task = current_app.tasks[routing.SUBSCRIBE_TASK]
    monkeypatch.setattr(task, "apply_async", lambda kwargs, **_options: sent.append(kwargs))
    return sent


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    from django.core.cache import cache

    cache.clear()


def command_files() -> list[str]:
    folder = engines.engine_dir("paper")
    return sorted(p.name for p in folder.glob("command*.json")) if folder.exists() else []


def test_junk_and_prefixes_are_never_asked_for(queued: list[dict[str, Any]], settings: Any) -> None:
    engines.engine_start("paper")
    for typed in ("", "aapl", "A B", "ZZZZZQ", "AAPL;rm", "X" * 20):
        assert actions.quote_request(mode="paper", symbol=typed, user_id=1).outcome == "invalid"
    assert queued == []


def test_without_a_running_engine_nothing_is_asked(queued: list[dict[str, Any]]) -> None:
    assert actions.quote_request(mode="paper", symbol="AMD", user_id=1).outcome == "no_engine"
    assert queued == []


def test_a_symbol_is_asked_once_a_minute_per_user_and_the_rate_is_per_user(
    queued: list[dict[str, Any]], settings: Any
) -> None:
    settings.TRADEDESK_QUOTE_REQUESTS_PER_MINUTE = 2
    engines.engine_start("paper")
    assert actions.quote_request(mode="paper", symbol="AMD", user_id=1).outcome == "asked"
    assert actions.quote_request(mode="paper", symbol="AMD", user_id=1).outcome == "waiting"
    assert actions.quote_request(mode="paper", symbol="INTC", user_id=1).outcome == "asked"
    assert actions.quote_request(mode="paper", symbol="ORCL", user_id=1).outcome == "rate_limited"
    assert actions.quote_request(mode="paper", symbol="ORCL", user_id=2).outcome == "asked"
    assert queued == [
        {"mode": "paper", "symbol": "AMD"},
        {"mode": "paper", "symbol": "INTC"},
        {"mode": "paper", "symbol": "ORCL"},
    ]


def test_the_subscription_runs_on_the_modes_engine_queue(settings: Any) -> None:
    settings.TRADEDESK_ENGINE_QUEUES = {"paper": "engine.paper"}
    route = routing.route_task(routing.SUBSCRIBE_TASK, (), {"mode": "paper", "symbol": "AMD"}, {})
    assert route == {"queue": "engine.paper"}


def test_a_typed_symbol_gets_bid_and_ask_through_the_one_subscribe_path(
    queued: list[dict[str, Any]], project: Project, settings: Any
) -> None:
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 20
    engines.engine_start("paper")
    client = Client()
    client.force_login(project.members.get())
    ask = {"project": project.pk, "symbol": "AMD"}
    first = client.get("/live-trade/quote", ask, headers={"HX-Request": "true"})
    assert 'data-testid="ticket-quote-waiting"' in first.content.decode()
    assert 'hx-trigger="load delay:1s"' in first.content.decode()  # the part asks again
    assert queued == [{"mode": "paper", "symbol": "AMD"}]
    assert not any("AMD" in name for name in command_files())  # the web request wrote no engine file

    assert tasks.symbol_subscribe(**queued[0]) == "subscribed"  # the engine host's worker runs it

    def amd_quote() -> Any:
        snapshot = prices.prices_snapshot("paper")
        return snapshot is not None and snapshot.quotes.get("AMD")

    quote = wait_for(amd_quote, timeout=20)
    assert quote and quote.bid is not None and quote.ask is not None and quote.bid < quote.ask
    text = client.get("/live-trade/quote", ask, headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="ticket-bid-ask"' in text and "load delay" not in text
    assert f">{quote.bid:.2f}</strong> × <strong" in text
    assert len(queued) == 1  # priced now: nothing asked again
    zh = client.get("/live-trade/quote", {**ask, "lang": "zh-hans"}, headers={"HX-Request": "true"})
    assert "买价 × 卖价" in zh.content.decode()
    assert json.loads((engines.engine_dir("paper") / "prices.json").read_text())["run_id"]


def test_a_restarted_engine_is_asked_again(queued: list[dict[str, Any]]) -> None:
    engines.engine_start("paper")
    assert actions.quote_request(mode="paper", symbol="AMD", user_id=1).outcome == "asked"
    engines.stop_engine("paper")
    engines.engine_start("paper")  # a new run: it has none of the last run's subscriptions
    assert actions.quote_request(mode="paper", symbol="AMD", user_id=1).outcome == "asked"
    assert len(queued) == 2
