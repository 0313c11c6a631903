"""orders/models/engine_record.py: the one accessor of an order's engine record (params.manual_execution)."""

from __future__ import annotations

import pytest

from orders.models import TradeOrder, engine_record, engine_record_merged, handed_to_run
from tests.factories import TradeOrderFactory


@pytest.mark.parametrize("params", [None, {}, {"manual_execution": None}, {"manual_execution": "x"}])
def test_no_record_reads_as_empty(params: dict | None) -> None:
    record = engine_record(params)
    assert (record.sent, record.run_id, record.handover, record.handed_over_at) == (False, "", "", "")


def test_a_record_reads_its_fields() -> None:
    record = engine_record(
        {
            "manual_execution": {
                "run_id": "r-1",
                "handover": "command",
                "handed_over_at": "2026-01-02T03:04:05Z",
            }
        }
    )
    assert (record.sent, record.run_id, record.handover, record.handed_over_at) == (
        True,
        "r-1",
        "command",
        "2026-01-02T03:04:05Z",
    )


def test_merge_keeps_earlier_keys_and_other_params() -> None:
    params = {"source": "manual", "manual_execution": {"run_id": "r-1", "command_id": "c1"}}
    merged = engine_record_merged(params, {"run_id": "r-2", "handover": "start"})
    assert merged == {
        "source": "manual",
        "manual_execution": {"run_id": "r-2", "command_id": "c1", "handover": "start"},
    }
    assert params["manual_execution"] == {"run_id": "r-1", "command_id": "c1"}  # the input is not changed


@pytest.mark.django_db
def test_handed_to_run_matches_in_the_database() -> None:
    held = TradeOrderFactory(params={"source": "test", "manual_execution": {"run_id": "r-held"}})
    TradeOrderFactory(params={"source": "test", "manual_execution": {"run_id": "r-other"}})
    TradeOrderFactory(params={"source": "test"})
    assert list(TradeOrder.objects.filter(handed_to_run("r-held")).values_list("pk", flat=True)) == [held.pk]
    assert held.engine_record.run_id == "r-held"
