"""Property tests: whatever order, duplication or cutting of contract events, the outcome is the clean one."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from execution.contract import LEAN_STATUS_MAP
from execution.ingest.events import apply_execution_events, ingest_execution_events, parse_lines
from orders.models import CLOSED_STATUSES, STATUS_RANK, TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db

LEAN_STATUSES = [
    "New",
    "Submitted",
    "PartiallyFilled",
    "Filled",
    "CancelPending",
    "Canceled",
    "Invalid",
    "UpdateSubmitted",
    "None",
]
PROFILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def event_sequences(draw: Any) -> list[dict[str, Any]]:
    """A clean sequence of distinct contract events for one order (tag filled in later)."""
    count = draw(st.integers(min_value=1, max_value=12))
    events = []
    for event_id in range(1, count + 1):
        status = draw(st.sampled_from(LEAN_STATUSES))
        event: dict[str, Any] = {
            "status": status,
            "order_id": draw(st.integers(1, 3)),
            "event_id": event_id,
            "run_id": "r-prop",
            "time": f"2026-11-25T14:{event_id // 60:02d}:{event_id % 60:02d}.{event_id:03d}Z",
            "message": f"m{event_id}",
        }
        if status in ("PartiallyFilled", "Filled") or draw(st.booleans()):
            event["filled"] = draw(st.integers(min_value=0, max_value=50))
            event["fill_price"] = draw(st.sampled_from([99.5, 100.0, 100.25, 101.125]))
            event["fee"] = draw(st.sampled_from([0, 1.0, 0.35]))
        events.append(event)
    return events


def state(order: TradeOrder) -> tuple[Any, ...]:
    order.refresh_from_db()
    return (
        order.status,
        order.filled_quantity,
        order.avg_fill_price,
        order.fees,
        order.last_status_ts,
        order.ib_order_id,
        order.status_message,
    )


def fresh_order(project: Any) -> TradeOrder:
    return TradeOrderFactory(
        project=project, client_order_id=f"oi_p_{uuid.uuid4().hex[:12]}", quantity=Decimal(500)
    )


@pytest.fixture
def prop_project(db: Any) -> Any:
    return ProjectFactory(name="props")


@PROFILE
@given(
    events=event_sequences(),
    data=st.data(),
)
def test_shuffled_duplicated_and_cut_files_end_in_the_clean_state(
    prop_project: Any, tmp_path: Path, events: list[dict[str, Any]], data: Any
) -> None:
    clean, messy = fresh_order(prop_project), fresh_order(prop_project)
    # Identity is (run_id, order_id, event_id) across the whole desk: each example is its own run.
    apply_execution_events(
        [{**e, "tag": clean.client_order_id, "run_id": clean.client_order_id} for e in events]
    )

    tagged = [{**e, "tag": messy.client_order_id, "run_id": messy.client_order_id} for e in events]
    shuffled = data.draw(st.permutations(tagged))
    duplicated = shuffled + data.draw(st.lists(st.sampled_from(tagged), max_size=6))
    blob = "".join(json.dumps(e) + "\n" for e in duplicated).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=6)))
    path = tmp_path / f"{uuid.uuid4().hex}.jsonl"
    path.write_bytes(b"")
    previous = 0
    for cut in [*cuts, len(blob)]:
        with open(path, "ab") as handle:
            handle.write(blob[previous:cut])
        previous = max(previous, cut)
        ingest_execution_events(path)

    clean_state, messy_state = state(clean), state(messy)
    assert messy_state == clean_state
    fills = sum(Decimal(e.get("filled") or 0) for e in events)
    assert messy.filled_quantity == fills
    mapped = [LEAN_STATUS_MAP[e["status"]] for e in events if LEAN_STATUS_MAP.get(e["status"])]
    expected = max(mapped, key=STATUS_RANK.__getitem__) if mapped else "NEW"
    assert messy.status == expected


@PROFILE
@given(events=event_sequences(), split=st.integers(0, 12))
def test_closed_states_never_reopen(prop_project: Any, events: list[dict[str, Any]], split: int) -> None:
    order = fresh_order(prop_project)
    seen_closed = None
    for part in (events[:split], events[split:]):
        apply_execution_events(
            [{**e, "tag": order.client_order_id, "run_id": order.client_order_id} for e in part]
        )
        order.refresh_from_db()
        if seen_closed is not None:
            assert order.status in CLOSED_STATUSES
            assert STATUS_RANK[order.status] >= STATUS_RANK[seen_closed]
        if order.status in CLOSED_STATUSES:
            seen_closed = order.status


@settings(max_examples=300, deadline=None)
@given(blob=st.binary(max_size=2000))
def test_parser_survives_arbitrary_bytes(blob: bytes) -> None:
    lines = blob.split(b"\n")
    batch = parse_lines(lines)
    report = batch.report
    assert report.lines_read == len(lines)
    assert report.bad + report.blank + report.engine_lines + report.holdings_lines + len(batch.events) == len(
        lines
    )


@settings(max_examples=200, deadline=None)
@given(
    obj=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "tag",
                        "status",
                        "filled",
                        "fill_price",
                        "fee",
                        "time",
                        "order_id",
                        "event_id",
                        "run_id",
                        "type",
                        "holdings",
                        "x",
                    ]
                ),
                children,
                max_size=8,
            )
        ),
        max_leaves=12,
    )
)
def test_parser_survives_arbitrary_json(obj: Any) -> None:
    raw = json.dumps(obj).encode()
    batch = parse_lines([raw])
    assert batch.report.lines_read == 1
