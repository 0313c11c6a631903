"""The supervisor with a fake LEAN launcher: SIGINT first, one LEAN engine per host, preflight on failure,
stop refused while the engine holds working orders, restart to reconcile.

LEAN facts (QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4, IBAutomater 2.0.91 at
20815f591bebf727e5fd0adbc614bd7d3a505e96): LEAN shuts down cleanly only on Console.CancelKeyPress, i.e.
SIGINT (Launcher/Program.cs 98, then OnEndOfAlgorithm in Engine/AlgorithmManager.cs 616); every IB Gateway
start runs QuantConnect.IBAutomater/IBAutomater.sh, which runs `pkill -9 Xvfb; pkill -9 java` (IBAutomater.sh:7-8).
"""

from __future__ import annotations

import json
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from execution.actions import engines_check, order_dispatch
from execution.actions.engine import engine_restart, engine_stop
from execution.engine import process as engines
from orders.errors import Conflict
from orders.models import OrderFlag, OrderStatus
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

FAKE_LEAN = """
import json, pathlib, signal, sys, time
mode = sys.argv[sys.argv.index("--mode") + 1]
parameters = json.loads(pathlib.Path(sys.argv[sys.argv.index("--config") + 1]).read_text())["parameters"]
log = pathlib.Path("signals.log")

def handler(signum, frame):
    with log.open("a") as handle:
        handle.write(signal.Signals(signum).name + "\\n")
    if mode == "clean" and signum == signal.SIGINT:
        sys.exit(0)
    if mode == "ignore-int" and signum == signal.SIGTERM:
        sys.exit(143)

signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
# Setup is over (the algorithm's `started` line): from here LEAN acts on SIGINT.
with open(parameters["events-file"], "a") as events:
    events.write(json.dumps({"type": "engine", "status": "started", "run_id": parameters["run-id"]}) + "\\n")
pathlib.Path("ready").write_text("ready")
if mode == "fail":
    sys.exit(1)
while True:
    time.sleep(0.02)
"""


@pytest.fixture
def fake_lean(settings: Any, tmp_path: Path) -> Any:
    """LEAN settings whose launcher is a Python script that logs the signals it gets (cwd: engine folder)."""
    launcher = tmp_path / "Lean" / "Launcher" / "bin" / "Release"
    launcher.mkdir(parents=True)
    script = tmp_path / "fake_lean.py"
    script.write_text(FAKE_LEAN)
    settings.TRADEDESK_ENGINE = "lean"
    settings.TRADEDESK_ENGINE_STOP_TIMEOUT = 0.5
    settings.LEAN_LAUNCHER_DIR = str(launcher)
    settings.LEAN_DATA_FOLDER = ""
    settings.PYTHONNET_PYDLL = ""
    settings.IB_TWS_DIR = str(tmp_path / "Jts")
    settings.IB_VERSION = "1034"
    settings.QC_USER_ID, settings.QC_API_TOKEN, settings.QC_ORGANIZATION_ID = "1", "token", "org"
    settings.IB_LOGINS = {
        mode: {"user_name": f"{mode}user", "password": "pw", "account": "DU1"} for mode in engines.MODES
    }

    def use(mode: str) -> None:
        settings.LEAN_LAUNCHER_CMD = f"{sys.executable} {script} --mode {mode}"

    use("clean")
    return use


def start(mode: str = "paper") -> engines.EngineState:
    handover = engines.engine_start(mode)
    assert wait_for(lambda: (engines.engine_dir(mode) / "ready").exists(), 10)
    return handover


def signals_received(mode: str = "paper") -> list[str]:
    return (engines.engine_dir(mode) / "signals.log").read_text().split()


def stop_record(mode: str = "paper") -> dict[str, Any]:
    return json.loads((engines.engine_dir(mode) / engines.STOP_FILE).read_text())


# ---------------------------------------------------------------------------------------------------------
# Stop: SIGINT, then SIGTERM, then SIGKILL
# ---------------------------------------------------------------------------------------------------------


def test_stop_sends_sigint_first_and_a_clean_engine_exits_on_it(fake_lean: Any) -> None:
    start()
    state = engines.stop_engine("paper")
    assert signals_received() == ["SIGINT"]
    assert stop_record()["signals"] == ["SIGINT"]
    assert (state.state, state.exit_code) == ("stopped", 0)


def test_stop_escalates_to_sigterm_when_sigint_is_not_enough(fake_lean: Any) -> None:
    fake_lean("ignore-int")
    start()
    state = engines.stop_engine("paper")
    assert signals_received() == ["SIGINT", "SIGTERM"]
    assert stop_record()["signals"] == ["SIGINT", "SIGTERM"]
    assert (state.state, state.exit_code) == ("stopped", 143)


def test_stop_ends_with_sigkill(fake_lean: Any) -> None:
    fake_lean("stubborn")
    start()
    state = engines.stop_engine("paper")
    assert signals_received() == ["SIGINT", "SIGTERM"]
    assert stop_record()["signals"] == ["SIGINT", "SIGTERM", "SIGKILL"]
    assert state.state == "stopped" and state.exit_code == -9
    assert engines.running_engine("paper") is None


# ---------------------------------------------------------------------------------------------------------
# Stop refused while the engine holds working orders
# ---------------------------------------------------------------------------------------------------------


def _held_order(run_id: str) -> Any:
    return TradeOrderFactory(
        project=ProjectFactory(mode="paper"),
        status=OrderStatus.SUBMITTED,
        params={"source": "test", "manual_execution": {"run_id": run_id}},
    )


def test_stop_is_refused_while_the_engine_holds_working_orders(fake_lean: Any) -> None:
    handover = start()
    order = _held_order(handover.run_id)
    with pytest.raises(Conflict, match="holds 1 working order"):
        engine_stop(mode="paper")
    with pytest.raises(CommandError, match="holds 1 working order"):
        call_command("engine", "stop", "paper")
    assert engines.running_engine("paper") is not None
    assert not (engines.engine_dir("paper") / "signals.log").exists()  # no signal was sent
    order.refresh_from_db()
    assert order.flag == OrderFlag.NONE


def test_a_forced_stop_flags_the_held_orders_engine_down(fake_lean: Any) -> None:
    handover = start()
    order = _held_order(handover.run_id)
    call_command("engine", "stop", "paper", "--force", stdout=StringIO())
    assert engines.running_engine("paper") is None
    order.refresh_from_db()
    assert order.flag == OrderFlag.ENGINE_DOWN and "by force" in order.flag_message


ENGINE_UNIT = Path(__file__).resolve().parents[3] / "deploy" / "systemd" / "tradedesk-engine@.service"


def unit_directive(name: str) -> str:
    (value,) = [
        line.split("=", 1)[1] for line in ENGINE_UNIT.read_text().splitlines() if line.startswith(f"{name}=")
    ]
    return value


def test_the_engine_units_stop_is_a_clean_stop_that_flags_the_held_orders(
    fake_lean: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """systemd cannot refuse a stop (a failed ExecStop goes on to SIGTERM the cgroup): the unit forces it."""
    handover = start()
    order = _held_order(handover.run_id)
    command = unit_directive("ExecStop").replace("%i", "paper").split()
    assert command[:2] == ["/opt/tradedesk/current/.venv/bin/python", "manage.py"]
    with caplog.at_level("WARNING", logger="execution.actions.engine"):
        call_command(*command[2:], stdout=StringIO())  # the unit's own arguments
    assert signals_received() == ["SIGINT"]  # LEAN's clean stop, not the cgroup's SIGTERM
    assert engines.engine_state("paper").state == "stopped"
    order.refresh_from_db()
    assert order.flag == OrderFlag.ENGINE_DOWN and "by force" in order.flag_message
    warned = [r for r in caplog.records if "stopped by force" in r.getMessage()]
    assert [r.order_ids for r in warned] == [[order.pk]]  # type: ignore[attr-defined]


def test_the_engine_units_stop_timeout_covers_the_whole_escalation() -> None:
    command = unit_directive("ExecStop").split()
    sigint_wait = float(command[command.index("--timeout") + 1])
    longest = (
        sigint_wait
        + engines.TERM_GRACE_SECONDS
        + engines.KILL_WAIT_SECONDS
        + engines.EXIT_RECORD_WAIT_SECONDS
    )
    assert longest < float(unit_directive("TimeoutStopSec"))


# ---------------------------------------------------------------------------------------------------------
# One LEAN engine per host
# ---------------------------------------------------------------------------------------------------------


def test_a_second_lean_engine_on_the_host_is_refused(fake_lean: Any, admin_user: Any) -> None:
    paper = start("paper")
    order = TradeOrderFactory(project=ProjectFactory(mode="live"))

    result = order_dispatch(order_id=order.pk)

    order.refresh_from_db()
    assert result.outcome == "failed"
    assert order.status == OrderStatus.FAILED
    assert "refused to start the live LEAN engine" in order.status_message
    assert "pkill -9 java" in order.status_message
    assert engines.running_engine("live") is None
    assert engines.running_engine("paper")["run_id"] == paper.run_id  # the paper engine is left alone
    client = Client()
    client.force_login(admin_user)
    live = next(e for e in client.get("/api/trade/engines").json() if e["mode"] == "live")
    assert "refused to start the live LEAN engine" in live["refused"]
    assert any(line.startswith("FAIL one LEAN per host") for line in live["preflight"])


# ---------------------------------------------------------------------------------------------------------
# A failed start shows the preflight's failing lines
# ---------------------------------------------------------------------------------------------------------


def test_a_failing_start_shows_the_preflight_lines(fake_lean: Any, user: Any, project: Any) -> None:
    fake_lean("fail")
    engines.engine_start("paper")
    assert wait_for(lambda: engines.engine_state("paper").state == "error", 10)

    state = next(s for s in engines_check() if s.mode == "paper")

    assert state.state == "error"
    assert any(line.startswith("FAIL launcher:") for line in state.preflight)
    assert any(line.startswith("FAIL IB Gateway:") for line in state.preflight)
    assert all(line.startswith("FAIL ") and " -- fix: " in line for line in state.preflight)
    user.is_staff = True  # the preflight lines are for the operator (staff), like pids and log tails
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    paper = next(e for e in client.get("/api/trade/engines").json() if e["mode"] == "paper")
    assert paper["preflight"] == state.preflight
    page = client.get(f"/live-trade?project={project.pk}").content.decode()
    assert 'data-testid="engine-preflight"' in page and "FAIL launcher:" in page


# ---------------------------------------------------------------------------------------------------------
# Restart to reconcile
# ---------------------------------------------------------------------------------------------------------


def test_restart_is_refused_while_orders_work(fake_lean: Any) -> None:
    TradeOrderFactory(project=ProjectFactory(mode="paper"), status=OrderStatus.SUBMITTED)
    with pytest.raises(Conflict, match="working order"):
        engine_restart(mode="paper")
    assert engines.running_engine("paper") is None


def test_staff_restart_the_engine_through_the_api(fake_lean: Any, user: Any) -> None:
    first = start()
    client = Client()
    client.force_login(user)
    assert client.post("/api/trade/engines/paper/restart").status_code == 403

    staff = UserFactory(username="ops", is_staff=True)
    client.force_login(staff)
    response = client.post("/api/trade/engines/paper/restart")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "running" and body["run_id"] != first.run_id
    assert signals_received() == ["SIGINT"]  # the old run was stopped cleanly first
