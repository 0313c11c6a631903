"""The contract's messages (execution/contract/messages.py) and the package's promise to the engine processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from execution.contract import LEAN_ORDER_TYPE_NAMES, LEAN_STATUS_MAP, MARKET_ON_OPEN
from orders.models import OrderStatus, OrderType

ROOT = Path(__file__).resolve().parents[3]


def test_the_status_map_names_only_tradedesk_statuses() -> None:
    mapped = {status for status in LEAN_STATUS_MAP.values() if status is not None}
    assert mapped <= set(OrderStatus.values)
    assert mapped == {"SUBMITTED", "PARTIALLY_FILLED", "FILLED", "CANCEL_PENDING", "CANCELED", "REJECTED"}


def test_every_tradedesk_order_type_has_its_lean_name() -> None:
    assert set(LEAN_ORDER_TYPE_NAMES) == set(OrderType.values) | {MARKET_ON_OPEN}


def test_the_engine_processes_import_their_packages_without_django() -> None:
    probe = (
        "import sys, execution.contract, execution.simulator, execution.engine.supervise; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'orders', 'tradedesk')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
