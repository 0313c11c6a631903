"""LEAN ends the run itself on an Error or ActionRequired brokerage message (a weekly 2FA not approved among
them), without a stopped line: the supervisor reads why in LEAN's log, the engine shows as stopped with it,
and the run's working orders are flagged ENGINE_DOWN.

LEAN at 24863901deffa9ec7985e21ef8fbdb0258efb9e4 (tests/fixtures/lean/brokerage-end-excerpt.json):
DefaultBrokerageMessageHandler.cs:92-96,168-171 sets a runtime error, AlgorithmManager.cs:362-366 returns before
OnEndOfAlgorithm, Program.cs:110-114 exits 1; the log lines are Brokerage.cs:310-323 with
Messages.Brokerages.cs:270-273 and Extensions.cs:4077-4083 with Log.cs:124-128 and Messages.QuantConnect.cs:521-524,
written by ConsoleLogHandler.cs:57-62,81-84. The IB plugin at d154917 (tests/fixtures/ib/action-required-excerpt.json):
InteractiveBrokersBrokerage.cs:5261-5270 sends Disconnect, then ActionRequired 2FAAuthRequired.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from execution.actions import engines_check
from execution.engine import process as engines
from execution.engine.supervise import BrokerageEnd
from orders.models import OrderFlag, OrderStatus
from tests.execution.engine.test_engine_lifecycle import fake_lean  # noqa: F401
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TWO_FA = "2FA authentication confirmation required to reconnect."


def excerpt(name: str, path_end: str) -> str:
    found = json.loads((FIXTURES / name).read_text())["excerpts"]
    return "\n".join(line for e in found if e["path"].endswith(path_end) for line in e["text"])


def lean_log(kind: str, code: str, message: str) -> list[str]:
    """The lines LEAN writes when a brokerage message of `kind` ends the run, composed by its format strings."""
    lean = "lean/brokerage-end-excerpt.json"
    assert 'Log.Error("Brokerage.OnMessage(): " + e);' in excerpt(lean, "Brokerage.cs")
    assert "{messageEvent.Type} - Code: {messageEvent.Code} - {messageEvent.Message}" in excerpt(
        lean, "Brokerages.cs"
    )
    assert "Extensions.SetRuntimeError(): {Messages.Extensions.RuntimeError(algorithm, context)}" in excerpt(
        lean, "Extensions.cs"
    )
    assert (
        'method + "(): " + (message ?? string.Empty) + " " + ClearLeanPaths(exception?.ToString())'
        in excerpt(lean, "Log.cs")
    )
    assert "RuntimeError at {algorithm.UtcTime} UTC. Context: {context}" in excerpt(lean, "QuantConnect.cs")
    handler = excerpt(lean, "DefaultBrokerageMessageHandler.cs")
    if kind == "Error":
        assert (
            "new Exception(message.Message)" in handler
            and 'BrokerageErrorContext = "Brokerage Error"' in excerpt(lean, "Brokerages.cs")
        )
        context, error = "Brokerage Error", message
    else:
        assert 'new Exception("Brokerage requires user action")' in handler
        context, error = "Brokerage Disconnect", "Brokerage requires user action"
    level = "ERROR" if kind == "Error" else "TRACE"
    return [
        f"2026-12-06T22:15:00.1234567Z TRACE:: Brokerage.OnMessage(): Disconnect - Code: Disconnect - {message}",
        f"2026-12-06T22:15:00.2234567Z {level}:: Brokerage.OnMessage(): {kind} - Code: {code} - {message}",
        "2026-12-06T22:15:00.3234567Z ERROR:: SetRuntimeError(): Extensions.SetRuntimeError(): RuntimeError at "
        f"12/06/2026 22:15:00 UTC. Context: {context} System.Exception: {error}",
        "2026-12-06T22:15:00.4234567Z ERROR:: AlgorithmManager.Run(): Stopping, encountered a runtime error at "
        "12/06/2026 22:15:00 UTC.",
    ]


def test_the_ib_plugin_ends_a_run_on_a_2fa_not_approved() -> None:
    ib = excerpt("ib/action-required-excerpt.json", "InteractiveBrokersBrokerage.cs")
    assert (
        '"2FA maximum attempts reached"' in ib
        and 'BrokerageMessageType.ActionRequired, "2FAAuthRequired"' in ib
    )
    assert f'var message = "{TWO_FA}";' in ib


@pytest.mark.parametrize(
    ("kind", "code", "message", "reason"),
    [
        ("ActionRequired", "2FAAuthRequired", TWO_FA, f"ActionRequired 2FAAuthRequired: {TWO_FA}"),
        (
            "Error",
            "ConnectionState",
            "Unexpected, not connected state. Unable to connect to Interactive Brokers. Terminating algorithm.",
            "Error ConnectionState: Unexpected, not connected state. Unable to connect to Interactive Brokers. "
            "Terminating algorithm.",
        ),
    ],
)
def test_the_reason_is_the_brokerage_message_that_ended_the_run(
    kind: str, code: str, message: str, reason: str
) -> None:
    end = BrokerageEnd()
    for line in lean_log(kind, code, message):
        end.feed(line)
    assert end.reason() == reason


def test_a_brokerage_message_alone_or_another_runtime_error_is_no_brokerage_end() -> None:
    end = BrokerageEnd()
    end.feed("2026-12-06T22:15:00Z ERROR:: Brokerage.OnMessage(): Error - Code: 1100 - Connectivity lost")
    assert end.reason() == ""
    end.feed("2026-12-06T22:15:01Z ERROR:: SetRuntimeError(): Extensions.SetRuntimeError(): RuntimeError at "
             "12/06/2026 22:15:01 UTC. Context: OnData System.Exception: boom")  # fmt: skip
    assert end.reason() == ""


ENDED_BY_LEAN = """
import json, pathlib, sys
parameters = json.loads(pathlib.Path(sys.argv[sys.argv.index("--config") + 1]).read_text())["parameters"]
with open(parameters["events-file"], "a") as events:
    events.write(json.dumps({"type": "engine", "status": "started", "run_id": parameters["run-id"]}) + "\\n")
for line in json.loads(pathlib.Path(sys.argv[1]).read_text()):
    print(line, file=sys.stderr if " ERROR:: " in line else sys.stdout, flush=True)
sys.exit(1)
"""


@pytest.fixture
def ended_by_lean(fake_lean: Any, settings: Any, tmp_path: Path) -> Any:  # noqa: F811
    """Start an engine whose LEAN logs what it logs when a brokerage message ends the run, then exits 1."""

    def run(kind: str, code: str, message: str) -> engines.EngineState:
        script, lines = tmp_path / "ended_by_lean.py", tmp_path / "lean-log.json"
        script.write_text(ENDED_BY_LEAN)
        lines.write_text(json.dumps(lean_log(kind, code, message)))
        settings.LEAN_LAUNCHER_CMD = f"{sys.executable} {script} {lines}"
        started = engines.engine_start("paper")
        assert wait_for(lambda: engines.engine_folder("paper").exit.exists(), 20)
        return started

    return run


def test_a_run_lean_ended_on_a_missed_2fa_is_stopped_with_the_reason_and_its_orders_are_engine_down(
    ended_by_lean: Any,
) -> None:
    run_id = ended_by_lean("ActionRequired", "2FAAuthRequired", TWO_FA).run_id
    working = TradeOrderFactory(
        project=ProjectFactory(mode="paper"),
        status=OrderStatus.SUBMITTED,
        params={"source": "manual", "manual_execution": {"run_id": run_id}},
    )
    record = json.loads(engines.engine_folder("paper").exit.read_text())
    assert (record["exit_code"], record["ended_by"]) == (1, "brokerage")
    state = next(s for s in engines_check() if s.mode == "paper")
    assert (state.state, state.ended_by, state.message) == (
        "stopped",
        "brokerage",
        f"ActionRequired 2FAAuthRequired: {TWO_FA}",
    )
    working.refresh_from_db()
    assert working.flag == OrderFlag.ENGINE_DOWN and TWO_FA in working.flag_message
    log = (engines.engine_dir("paper") / "engine.log").read_text()
    assert f"LEAN ended the run on a brokerage message: ActionRequired 2FAAuthRequired: {TWO_FA}" in log


def test_the_page_shows_the_engine_stopped_with_the_reason(ended_by_lean: Any) -> None:
    ended_by_lean("Error", "ConnectionState", "Unable to connect to Interactive Brokers.")
    trader = UserFactory(username="tess")
    project = ProjectFactory(name="beta", members=[trader])
    client = Client()
    client.force_login(trader)
    html = client.get(f"/live-trade?project={project.pk}").content.decode()
    assert 'data-testid="engine-state"' in html and "<strong>stopped</strong>" in html
    assert "LEAN ended the run on a brokerage message: Error ConnectionState: Unable to connect" in html
    zh = client.get(f"/live-trade?project={project.pk}&lang=zh-hans").content.decode()
    assert "LEAN 因券商消息结束了本次运行: Error ConnectionState" in zh


def test_a_crash_without_those_lines_is_still_an_error(fake_lean: Any) -> None:  # noqa: F811
    fake_lean("fail")
    engines.engine_start("paper")
    assert wait_for(lambda: engines.engine_folder("paper").exit.exists(), 20)
    state = engines.engine_state("paper")
    assert (state.state, state.ended_by) == ("error", "")
