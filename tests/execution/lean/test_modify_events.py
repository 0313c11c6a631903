"""The LEAN algorithm's lines for a modify: UpdateSubmitted, and the mark on the Invalid of one IB refuses."""

from __future__ import annotations

import json
import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from execution.contract import EVENT_KEYS
from tests.execution.lean.fake_lean import (
    OrderRequestStatus,
    OrderStatus,
    companion,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_an_update_of_a_working_order_is_reported_as_update_submitted_with_its_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    # LEAN ran the UpdateOrderCommand itself (Transactions.UpdateOrder); the algorithm sees the order events.
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1764000000999")
    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.UPDATE_SUBMITTED))
    algo.on_order_event(order_event(order_id=7, id=3, message="Brokerage failed to update order"))
    confirmed, failed = read_lines(workdir)[-2:]
    assert (confirmed["tag"], confirmed["status"], confirmed["order_id"], confirmed["event_id"]) == (
        "oi_4_9_1764000000999",
        "UpdateSubmitted",
        7,
        2,
    )
    assert confirmed["filled"] == 0
    # The ingest drops the pending update on this message (orders.services.modify.UPDATE_FAILED_MESSAGES).
    assert (failed["status"], failed["message"]) == ("Submitted", "Brokerage failed to update order")


# ---------------------------------------------------------------------------------------------------------
# A modify IB refuses (issue 21 item 4)
# ---------------------------------------------------------------------------------------------------------


IB_REFUSED = REPO_ROOT / "tests" / "fixtures" / "ib" / "refused-update-excerpt.json"
LEAN_UPDATES = REPO_ROOT / "tests" / "fixtures" / "lean" / "update-request-excerpt.json"


def _excerpt(path: Path, lines: str) -> str:
    found = [e for e in json.loads(path.read_text())["excerpts"] if e["lines"] == lines]
    assert len(found) == 1
    return "\n".join(found[0]["text"])


def test_ib_invalidates_the_order_itself_when_a_modify_fails() -> None:
    """The facts the mark rests on (IB plugin InteractiveBrokersBrokerage.cs@d154917, kept as a fixture)."""
    codes = _excerpt(IB_REFUSED, "5896-5904")
    for code in ("104, // Can't modify a filled order", " 105,", " 110,", " 201,"):
        assert code in codes
    handle_error = _excerpt(IB_REFUSED, "2232-2260")
    assert "if (InvalidatingCodes.Contains(errorCode)" in handle_error
    assert "var orders = _orderProvider.GetOrdersByBrokerageId(requestId);" in handle_error
    assert "Status = OrderStatus.Invalid," in handle_error  # for the order, whatever the request was
    update = _excerpt(IB_REFUSED, "472-499")
    assert "_orderUpdates[order.Id] = order.Id;" in update and "IBPlaceOrder(order, false);" in update
    statuses = _excerpt(IB_REFUSED, "2404-2431")
    assert "Status = isUpdate ? OrderStatus.UpdateSubmitted : status" in statuses
    # LEAN: an update that passed its synchronous checks is Processing, then Processed; an error is Error.
    assert "OrderRequestStatus.Processing" in _excerpt(LEAN_UPDATES, "474-478")
    assert "request.SetResponse(response, OrderRequestStatus.Processed);" in _excerpt(LEAN_UPDATES, "851-852")
    assert "Status = response.IsError ? OrderRequestStatus.Error : status;" in _excerpt(
        LEAN_UPDATES, "94-104"
    )


def _working_order(lean: types.ModuleType, workdir: Path) -> Any:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1764000000999", broker_id=["1007"])
    algo.on_order_event(order_event(order_id=7, id=1, status=OrderStatus.SUBMITTED))
    return algo


def test_an_invalid_while_an_update_is_in_flight_is_marked_as_a_refused_update(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _working_order(lean, workdir)
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSED)
    algo.on_order_event(
        order_event(order_id=7, id=2, status=OrderStatus.INVALID, message="110 - The price does not conform")
    )
    refused = read_lines(workdir)[-1]
    assert (refused["status"], refused["message"], refused["update_refused"]) == (
        "Invalid",
        "110 - The price does not conform",
        True,
    )
    assert list(refused) == [*EVENT_KEYS, "update_refused"]
    # The update is answered: a later Invalid (IB rejecting the order itself) is not marked.
    algo.on_order_event(order_event(order_id=7, id=3, status=OrderStatus.INVALID, message="201 - rejected"))
    assert "update_refused" not in read_lines(workdir)[-1]


def test_a_confirmed_update_leaves_no_update_in_flight(lean: types.ModuleType, workdir: Path) -> None:
    algo = _working_order(lean, workdir)
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSING)  # the brokerage call has not returned
    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.UPDATE_SUBMITTED))
    algo.on_order_event(order_event(order_id=7, id=3, status=OrderStatus.INVALID, message="201 - rejected"))
    assert [("update_refused" in line) for line in read_lines(workdir)[-2:]] == [False, False]
    # A second update, then IB refuses it: marked.
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSING)
    algo.on_order_event(order_event(order_id=7, id=4, status=OrderStatus.INVALID, message="105 - bad modify"))
    assert read_lines(workdir)[-1]["update_refused"] is True


@pytest.mark.parametrize("request_status", [None, OrderRequestStatus.ERROR, OrderRequestStatus.UNPROCESSED])
def test_an_invalid_without_an_update_sent_is_not_marked(
    lean: types.ModuleType, workdir: Path, request_status: Any
) -> None:
    algo = _working_order(lean, workdir)
    if request_status is not None:
        algo.transactions.request_update(7, request_status)  # refused by LEAN itself, or never sent
    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.INVALID, message="201 - rejected"))
    line = read_lines(workdir)[-1]
    assert line["status"] == "Invalid" and "update_refused" not in line


def test_the_algorithm_and_the_contract_name_the_mark_alike(lean: types.ModuleType) -> None:
    from execution.contract import UPDATE_REFUSED_KEY, UPDATE_REFUSED_STATUS

    assert companion("lines").UPDATE_REFUSED_KEY == UPDATE_REFUSED_KEY
    assert companion("lines").status_name(OrderStatus.INVALID) == UPDATE_REFUSED_STATUS
