"""Prometheus metrics of the engine adapter.

Two kinds, for a web process and workers that are separate processes:
- state computed at scrape time from the database and the engines' files (`DeskCollector`): orders by
  status, engine up, ingest lag, beat heartbeat age, prices age. Any process can serve them, no sharing needed;
- events applied/bad/unmatched (one `inc` per ingest batch) and the dispatch latency histogram are counted
  in the process that does the work. They add up across processes only in prometheus-client's multiprocess
  mode: set PROMETHEUS_MULTIPROC_DIR to the same empty folder for web and workers (README, "Health and
  metrics"); without it /metrics shows what the serving process itself counted.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from execution.engine import process as engines
from execution.ingest import account, prices
from execution.models import EventFileCursor, HoldingsDiscrepancy
from orders.models import OrderStageTimes, OrderStatus, TradeOrder
from orders.services import STAGE_GAPS

HEARTBEAT_FILE = "ingest.heartbeat"
# The order stage histogram covers this many of the latest orders (computed at scrape time from their rows).
STAGE_ORDERS = 1000
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0)

# The counters of this process (in multiprocess mode their values live in PROMETHEUS_MULTIPROC_DIR).
REGISTRY = CollectorRegistry()
EVENTS = Counter(
    "tradedesk_events",
    "Engine event lines ingested, by outcome (applied, duplicate, unmatched, bad)",
    ["outcome"],
    registry=REGISTRY,
)
DISPATCH_LATENCY = Histogram(
    "tradedesk_order_dispatch_latency_seconds",
    "Seconds from an order's creation to its handover to the engine",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)


def ingest_batch_observe(*, applied: int, duplicates: int, unmatched: int, bad: int) -> None:
    """Count one ingest batch's outcomes (one call per batch, never per event)."""
    for outcome, count in (
        ("applied", applied),
        ("duplicate", duplicates),
        ("unmatched", unmatched),
        ("bad", bad),
    ):
        if count:
            EVENTS.labels(outcome=outcome).inc(count)


def dispatch_latency_observe(*, seconds: float) -> None:
    """Record how long an order took from creation to the engine."""
    DISPATCH_LATENCY.observe(max(0.0, seconds))


def heartbeat_path() -> Path:
    """The file the beat's ingest task touches each run (its age is the beat/broker/worker chain's health)."""
    return Path(settings.TRADEDESK_EXECUTION_ROOT) / HEARTBEAT_FILE


def ingest_heartbeat_touch() -> None:
    """Mark that a scheduled ingest ran now."""
    path = heartbeat_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def _age(mtime: float) -> float:
    return max(0.0, timezone.now().timestamp() - mtime)


class DeskCollector:
    """Gauges computed at each scrape from the database and the engines' files."""

    def describe(self) -> list[Metric]:
        """Nothing up front: registering must not query the database."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Orders by status, engines, ingest lag, heartbeat, prices age, reconciliation."""
        orders = GaugeMetricFamily("tradedesk_orders", "Orders by status", labels=["status"])
        counts = dict.fromkeys(OrderStatus.values, 0)
        for status, count in TradeOrder.objects.values_list("status").annotate(n=Count("id")):
            counts[status] = count
        for status, count in counts.items():
            orders.add_metric([status], count)
        yield orders

        up = GaugeMetricFamily(
            "tradedesk_engine_up", "1 when the mode's engine process runs", labels=["mode"]
        )
        state = GaugeMetricFamily(
            "tradedesk_engine_state",
            "The mode's engine state (1 for the current one)",
            labels=["mode", "state"],
        )
        price_age = GaugeMetricFamily(
            "tradedesk_prices_age_seconds", "Age of the mode's prices snapshot", labels=["mode"]
        )
        for mode in engines.MODES:
            engine = engines.engine_state(mode)
            up.add_metric([mode], 1 if engine.state == "running" else 0)
            state.add_metric([mode, engine.state], 1)
            snapshot = prices.prices_snapshot(mode)
            if snapshot is not None:
                price_age.add_metric([mode], max(0.0, (timezone.now() - snapshot.time).total_seconds()))
        yield from (up, state, price_age)
        if settings.TRADEDESK_METRICS_ACCESS == "staff":
            # The IB accounts' money: only where /metrics itself is staff-only (left out when it is open).
            yield from self._accounts()

        yield from self._ingest_lag()
        yield self._stages()

        heartbeat = GaugeMetricFamily(
            "tradedesk_ingest_heartbeat_age_seconds",
            "Seconds since the beat's last ingest run (beat, broker and worker all working)",
        )
        with contextlib.suppress(FileNotFoundError):
            heartbeat.add_metric([], _age(heartbeat_path().stat().st_mtime))
        yield heartbeat

        discrepancies = GaugeMetricFamily(
            "tradedesk_holdings_discrepancies", "Symbols whose engine holdings disagree", labels=["mode"]
        )
        found = dict.fromkeys(engines.MODES, 0)
        for mode, count in HoldingsDiscrepancy.objects.values_list("mode").annotate(n=Count("id")):
            found[mode] = count
        for mode, count in found.items():
            discrepancies.add_metric([mode], count)
        yield discrepancies

    def _accounts(self) -> Iterator[Metric]:
        names = {
            "net_liquidation": "Net liquidation value of the mode's IB account (account currency)",
            "buying_power": "Buying power (margin remaining) of the mode's IB account",
            "total_margin_used": "Total margin used by the mode's IB account",
            "unrealized_pnl": "Unrealised P&L of the mode's IB account",
        }
        families = {
            name: GaugeMetricFamily(f"tradedesk_account_{name}", text, labels=["mode", "currency"])
            for name, text in names.items()
        }
        cash = GaugeMetricFamily(
            "tradedesk_account_cash",
            "Cash of the mode's IB account per currency",
            labels=["mode", "currency"],
        )
        age = GaugeMetricFamily(
            "tradedesk_account_age_seconds", "Age of the mode's account snapshot", labels=["mode"]
        )
        for mode in engines.MODES:
            snapshot = account.account_snapshot(mode)
            if snapshot is None:
                continue
            for name, family in families.items():
                family.add_metric([mode, snapshot.currency], float(getattr(snapshot, name)))
            for balance in snapshot.cash:
                cash.add_metric([mode, balance.currency], float(balance.amount))
            age.add_metric([mode], max(0.0, (timezone.now() - snapshot.time).total_seconds()))
        yield from (*families.values(), cash, age)

    def _stages(self) -> HistogramMetricFamily:
        rows = list(OrderStageTimes.objects.order_by("-order_id").values()[:STAGE_ORDERS])
        return _stage_histogram(rows)

    def _ingest_lag(self) -> Iterator[Metric]:
        lag_bytes = GaugeMetricFamily(
            "tradedesk_ingest_lag_bytes", "Bytes of the events file not yet ingested", labels=["mode"]
        )
        lag_seconds = GaugeMetricFamily(
            "tradedesk_ingest_lag_seconds",
            "Age of the newest unread line of the events file (0 when all is read)",
            labels=["mode"],
        )
        offsets = dict(EventFileCursor.objects.values_list("path", "offset"))
        for mode in engines.MODES:
            path = engines.engine_folder(mode).events.resolve()
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            pending = max(0, stat.st_size - offsets.get(str(path), 0))
            lag_bytes.add_metric([mode], pending)
            lag_seconds.add_metric([mode], _age(stat.st_mtime) if pending else 0.0)
        yield from (lag_bytes, lag_seconds)


def _stage_histogram(rows: list[Any]) -> HistogramMetricFamily:
    """Seconds each stage of the latest orders took (request, queue, hand-over, engine, fill, ingest, screen)."""
    family = HistogramMetricFamily(
        "tradedesk_order_stage_seconds",
        f"Seconds between an order's stages, over the latest {STAGE_ORDERS} orders (orders/models/stages.py)",
        labels=["stage"],
    )
    for label, start, end in STAGE_GAPS:
        seconds = [
            max(0.0, (row[f"{end}_at"] - row[f"{start}_at"]).total_seconds())
            for row in rows
            if row[f"{start}_at"] is not None and row[f"{end}_at"] is not None
        ]
        buckets = [(str(bound), float(sum(1 for s in seconds if s <= bound))) for bound in STAGE_BUCKETS]
        buckets.append(("+Inf", float(len(seconds))))
        family.add_metric([label], buckets, sum(seconds))
    return family


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: this process's (or all processes') counters and the desk's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(DeskCollector())
    return registry
