"""Engine prices: the snapshot file (simulator and reader), positions valued at market, the risk check's price,
and that prices never become event lines or ledger changes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from execution.engine import process as engines
from execution.ingest import prices
from execution.ingest.events import ingest_execution_events
from orders.errors import RiskRejected
from orders.models import Position, Project
from orders.services import apply_fill_to_order, create_trade_order, update_trade_order_status
from tests.execution.simulator.harness import Engine, intent, start_engine  # noqa: F401 (fixture)
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_prices(mode: str, quotes: list[dict[str, Any]], *, at: datetime | None = None) -> Path:
    path = prices.prices_path(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".prices.tmp")
    tmp.write_text(json.dumps({"run_id": "r-1", "time": iso(at or timezone.now()), "prices": quotes}))
    os.replace(tmp, path)
    return path


def hold(project: Project, symbol: str, quantity: int, price: str) -> Position:
    order = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(quantity))
    update_trade_order_status(order, "SUBMITTED")
    apply_fill_to_order(order, quantity=quantity, price=price)
    return Position.objects.get(project=project, symbol=symbol)


# ---- the file and its reader ---------------------------------------------------------------------------


def test_snapshot_skips_entries_that_break_the_shape() -> None:
    snapshot = prices.parse_snapshot(
        {
            "run_id": "r",
            "time": "2026-11-25T19:00:00.000Z",
            "prices": [
                {"symbol": "AAPL", "last": 190.25, "bid": 190.2, "ask": None},
                {"symbol": "aapl", "last": 1},
                {"symbol": "MSFT", "last": -1},
                {"symbol": "NVDA", "last": True},
                "TSLA",
            ],
        }
    )
    assert snapshot is not None and list(snapshot.quotes) == ["AAPL"]
    assert snapshot.quotes["AAPL"].last == Decimal("190.25") and snapshot.quotes["AAPL"].ask is None
    assert snapshot.time == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    assert prices.parse_snapshot({"prices": []}) is None
    assert prices.parse_snapshot([1]) is None


def test_reader_reads_the_file_again_only_when_it_was_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    write_prices("paper", [{"symbol": "AAPL", "last": 190}])
    reads: list[Path] = []
    real = prices.read_json
    monkeypatch.setattr(prices, "read_json", lambda path: reads.append(path) or real(path))

    first = prices.prices_snapshot("paper")
    again = prices.prices_snapshot("paper")
    write_prices("paper", [{"symbol": "AAPL", "last": 191}])
    replaced = prices.prices_snapshot("paper")

    assert len(reads) == 2
    assert first is again and first is not None and first.quotes["AAPL"].last == 190
    assert replaced is not None and replaced.quotes["AAPL"].last == 191 and replaced.version != first.version


def test_fresh_price_is_none_when_stale_or_missing(settings: Any) -> None:
    settings.TRADEDESK_PRICE_STALE_SECONDS = 30
    assert prices.fresh_market_price("paper", "AAPL") is None
    write_prices("paper", [{"symbol": "AAPL", "last": 190}])
    assert prices.fresh_market_price("paper", "AAPL") == Decimal(190)
    assert prices.fresh_market_price("paper", "MSFT") is None
    write_prices("paper", [{"symbol": "AAPL", "last": 190}], at=timezone.now() - timedelta(seconds=31))
    assert prices.fresh_market_price("paper", "AAPL") is None


# ---- positions and risk ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_positions_api_values_positions_at_the_engine_price(api: Client, project: Project) -> None:
    hold(project, "AAPL", 10, "180")
    hold(project, "MSFT", 5, "400")
    write_prices("paper", [{"symbol": "AAPL", "last": 190.5, "bid": 190.49, "ask": 190.51}])

    rows = {row["symbol"]: row for row in api.get(f"/api/trade/positions?project_id={project.pk}").json()}

    aapl, msft = rows["AAPL"], rows["MSFT"]
    assert (aapl["last_price"], aapl["market_value"], aapl["unrealized_pnl"]) == ("190.5", "1905", "105")
    assert aapl["price_source"] == "market" and aapl["price_stale"] is False and aapl["price_time"]
    # No engine price for MSFT: valued at its last fill, marked by its source.
    assert (msft["last_price"], msft["market_value"], msft["price_source"]) == ("400", "2000", "last_fill")


@pytest.mark.django_db
def test_positions_api_marks_an_old_price_stale(api: Client, project: Project, settings: Any) -> None:
    settings.TRADEDESK_PRICE_STALE_SECONDS = 10
    hold(project, "AAPL", 10, "180")
    write_prices("paper", [{"symbol": "AAPL", "last": 170}], at=timezone.now() - timedelta(minutes=5))
    (row,) = api.get(f"/api/trade/positions?project_id={project.pk}").json()
    assert row["price_stale"] is True and row["last_price"] == "170" and row["unrealized_pnl"] == "-100"


@pytest.mark.django_db
def test_risk_uses_the_fresh_market_price_for_a_market_order(project: Project, user: Any) -> None:
    project.max_order_notional = Decimal(1000)
    project.save()
    hold(project, "AAPL", 1, "50")  # the last fill alone would allow 10 x 50
    write_prices("paper", [{"symbol": "AAPL", "last": 150}])
    with pytest.raises(RiskRejected) as caught:
        create_trade_order(
            {"symbol": "AAPL", "side": "BUY", "quantity": 10, "project_id": project.pk}, user=user
        )
    assert "1,500.00" in caught.value.message


@pytest.mark.django_db
def test_risk_ignores_a_stale_market_price(project: Project, user: Any, settings: Any) -> None:
    settings.TRADEDESK_PRICE_STALE_SECONDS = 10
    project.max_order_notional = Decimal(1000)
    project.save()
    hold(project, "AAPL", 1, "50")
    write_prices("paper", [{"symbol": "AAPL", "last": 150}], at=timezone.now() - timedelta(minutes=1))
    result = create_trade_order(
        {"symbol": "AAPL", "side": "BUY", "quantity": 10, "project_id": project.pk}, user=user
    )
    assert result.created


@pytest.mark.django_db
def test_prices_poll_answers_204_until_the_prices_change(client: Client, user: Any, project: Project) -> None:
    client.force_login(user)
    hold(project, "AAPL", 10, "180")
    write_prices("paper", [{"symbol": "AAPL", "last": 190}])
    url = f"/live-trade/prices?project={project.pk}"

    first = client.get(url, HTTP_HX_REQUEST="true")
    version = first.context["prices_version"]
    unchanged = client.get(f"{url}&prices={version}", HTTP_HX_REQUEST="true")
    write_prices("paper", [{"symbol": "AAPL", "last": 191.25}])
    changed = client.get(f"{url}&prices={version}", HTTP_HX_REQUEST="true")

    assert (first.status_code, unchanged.status_code, changed.status_code) == (200, 204, 200)
    assert "191.25" in changed.content.decode() and "1,912.50" in changed.content.decode()


@pytest.mark.django_db
def test_orders_poll_stays_204_when_only_prices_changed(client: Client, user: Any, project: Project) -> None:
    client.force_login(user)
    hold(project, "AAPL", 10, "180")
    write_prices("paper", [{"symbol": "AAPL", "last": 190}])
    page = client.get(f"/live-trade?project={project.pk}")
    ov, pv = page.context["orders_version"], page.context["positions_version"]
    write_prices("paper", [{"symbol": "AAPL", "last": 195}])
    poll = client.get(f"/live-trade/orders?project={project.pk}&ov={ov}&pv={pv}", HTTP_HX_REQUEST="true")
    assert poll.status_code == 204


# ---- the simulator writes it -----------------------------------------------------------------------------


def test_simulator_replaces_prices_for_held_and_working_symbols_without_event_lines(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine(intent=intent("oi_1", "AAPL", 5), prices_interval=0.05)
    engine.wait_status("oi_1", "Filled")
    path = engine.workdir / "prices.json"

    def aapl_quote() -> Any:
        data = json.loads(path.read_text()) if path.exists() else {}
        quotes = [q for q in data.get("prices", []) if q["symbol"] == "AAPL"]
        return (data, quotes[0]) if quotes else None

    found = wait_for(aapl_quote, timeout=10)
    assert found, "no AAPL price in prices.json"
    data, quote = found
    assert data["run_id"] == "r-test-1" and data["time"].endswith("Z")
    assert quote["bid"] < quote["last"] < quote["ask"]
    first_time = data["time"]
    assert wait_for(lambda: json.loads(path.read_text())["time"] != first_time, timeout=10)
    assert all(line.get("type") != "prices" and "prices" not in line for line in engine.lines())


def test_simulator_without_a_prices_interval_writes_no_prices(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine(intent=intent("oi_1", "AAPL", 5))
    engine.wait_status("oi_1", "Filled")
    assert not (engine.workdir / "prices.json").exists()


@pytest.mark.django_db
def test_ingest_leaves_the_ledger_alone_when_only_prices_change(project: Project) -> None:
    hold(project, "AAPL", 10, "180")
    events = engines.engine_dir("paper") / "events.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    events.write_text("")
    ingest_execution_events()
    before = list(Position.objects.values_list("symbol", "quantity", "avg_cost", "updated_at"))
    write_prices("paper", [{"symbol": "AAPL", "last": 250}])
    report = ingest_execution_events()
    assert report.lines_read == 0 and events.stat().st_size == 0
    assert list(Position.objects.values_list("symbol", "quantity", "avg_cost", "updated_at")) == before
