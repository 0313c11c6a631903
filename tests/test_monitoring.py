"""GET /healthz (web + database only) and GET /metrics (Prometheus text, staff or basic auth)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.utils import OperationalError
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from execution import metrics
from execution.engine import process as engines
from execution.ingest.events import ingest_execution_events
from orders.models import Project
from tests.factories import TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def staff_client(client: Client) -> Client:
    staff = UserFactory(username="ops")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    return client


def test_healthz_is_200_without_auth_or_details(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_fails(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from tradedesk import monitoring

    class Broken:
        def cursor(self) -> Any:
            raise OperationalError("connection refused")

    monkeypatch.setattr(monitoring, "connection", Broken())
    response = client.get("/healthz")
    assert response.status_code == 503 and response.content == b"unavailable\n"


def test_healthz_stays_200_when_the_engine_is_down(client: Client) -> None:
    folder = engines.engine_dir("paper")
    folder.mkdir(parents=True)
    (folder / "engine.pid").write_text(json.dumps({"pid": 2**22 + 12345, "run_id": "r-dead"}))
    assert engines.engine_state("paper").state == "error"
    assert client.get("/healthz").status_code == 200


def test_metrics_needs_staff(client: Client, user: Any) -> None:
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Basic")
    client.force_login(user)
    assert client.get("/metrics").status_code == 401


def test_metrics_accepts_basic_auth_of_a_staff_user(client: Client) -> None:
    get_user_model().objects.create_user("prom", password="scrape-pw", is_staff=True)
    good = base64.b64encode(b"prom:scrape-pw").decode()
    bad = base64.b64encode(b"prom:nope").decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {good}").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {bad}").status_code == 401


def test_metrics_open_when_the_setting_says_so(client: Client, settings: Any) -> None:
    settings.TRADEDESK_METRICS_ACCESS = "open"
    assert client.get("/metrics").status_code == 200


def test_metrics_show_orders_by_status_and_engines(staff_client: Client, project: Project) -> None:
    TradeOrderFactory(project=project)
    TradeOrderFactory(project=project)
    response = staff_client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert found[("tradedesk_orders", (("status", "NEW"),))] == 2
    assert found[("tradedesk_orders", (("status", "FILLED"),))] == 0
    assert found[("tradedesk_engine_up", (("mode", "paper"),))] == 0
    assert found[("tradedesk_engine_state", (("mode", "live"), ("state", "not started")))] == 1


def test_ingest_lag_counts_unread_bytes(staff_client: Client, execution_root: Path) -> None:
    events = engines.engine_dir("paper") / "events.jsonl"
    events.parent.mkdir(parents=True)
    line = b'{"type":"engine","status":"started","run_id":"r-1"}\n'
    events.write_bytes(line)
    ingest_execution_events()
    events.write_bytes(line * 3)
    found = samples(staff_client.get("/metrics").content.decode())
    assert found[("tradedesk_ingest_lag_bytes", (("mode", "paper"),))] == 2 * len(line)
    assert found[("tradedesk_ingest_lag_seconds", (("mode", "paper"),))] >= 0
    ingest_execution_events()
    found = samples(staff_client.get("/metrics").content.decode())
    assert found[("tradedesk_ingest_lag_bytes", (("mode", "paper"),))] == 0
    assert found[("tradedesk_ingest_lag_seconds", (("mode", "paper"),))] == 0


def test_event_counters_move_once_per_batch(
    staff_client: Client, project: Project, fixture_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, int]] = []
    real = metrics.ingest_batch_observe
    monkeypatch.setattr(
        metrics, "ingest_batch_observe", lambda **counts: calls.append(counts) or real(**counts)
    )
    before = samples(staff_client.get("/metrics").content.decode())
    events = engines.engine_dir("paper") / "events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_bytes(
        b'{"tag":"nobody","status":"Submitted","order_id":1,"event_id":1,"run_id":"r-1"}\nnot json\n'
    )

    ingest_execution_events()

    assert calls == [{"applied": 0, "duplicates": 0, "unmatched": 1, "bad": 1}]
    after = samples(staff_client.get("/metrics").content.decode())
    for outcome in ("unmatched", "bad"):
        key = ("tradedesk_events_total", (("outcome", outcome),))
        assert after[key] - before.get(key, 0) == 1


def test_dispatch_latency_is_observed_when_an_order_reaches_the_engine(
    staff_client: Client, project: Project
) -> None:
    from execution.actions import order_dispatch

    key = ("tradedesk_order_dispatch_latency_seconds_count", ())
    before = samples(staff_client.get("/metrics").content.decode()).get(key, 0)
    order = TradeOrderFactory(project=project, params={"source": "manual"})
    assert order_dispatch(order_id=order.pk).outcome == "dispatched"
    after = samples(staff_client.get("/metrics").content.decode())[key]
    assert after == before + 1


def test_heartbeat_age_appears_once_beat_ingested(staff_client: Client) -> None:
    from execution.tasks import ingest_events

    name = ("tradedesk_ingest_heartbeat_age_seconds", ())
    assert name not in samples(staff_client.get("/metrics").content.decode())
    ingest_events()
    assert samples(staff_client.get("/metrics").content.decode())[name] >= 0
