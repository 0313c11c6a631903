"""Engine babysitter: `python -m execution.engine.supervise --workdir W --run-id R -- CMD...`.

It detaches (new session, so a web or worker restart does not take the engine down), starts the engine with
the engine's folder as cwd and its output in engine.log, writes engine.pid, and when the engine ends writes
engine.exit.json with the exit code and the last log lines. Stdlib only: it runs before Django is anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from execution.contract.files import tail_lines, write_json_atomic
from execution.contract.folder import CONFIG_FILE, EXIT_FILE, LOG_FILE, PID_FILE
from execution.contract.times import contract_time

MASK = b"********"
# Config keys whose values never reach engine.log, engine.exit.json or the engines API (IB and QuantConnect).
SECRET_KEY_PARTS = ("password", "token", "secret", "user-name", "account", "job-user-id", "api-access")


def _secrets(workdir: Path) -> list[bytes]:
    """The configured secret values of the engine's config.json, longest first (so none is half-masked)."""
    try:
        with open(workdir / CONFIG_FILE, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return []
    values = {
        str(value).encode()
        for key, value in (config.items() if isinstance(config, dict) else ())
        if any(part in str(key).lower() for part in SECRET_KEY_PARTS) and len(str(value)) >= 3
    }
    return sorted(values, key=len, reverse=True)


def mask_secrets(line: bytes, secrets: list[bytes]) -> bytes:
    """The line with every secret value replaced."""
    for secret in secrets:
        line = line.replace(secret, MASK)
    return line


# IBAutomater writes the IB user name and password in clear to IBAutomater.json beside its assembly (the LEAN
# launcher folder) and deletes it only in Dispose, i.e. a clean stop (IBAutomater.cs:1173-1175,1209-1216,
# 203-215 at IBAutomater 2.0.91 = 20815f5; tests/fixtures/lean/secrets-excerpt.json).
IBAUTOMATER_CONFIG = "IBAutomater.json"
# The engine's own files (LEAN's output, IBAutomater.json) are its user's only.
ENGINE_UMASK = 0o077


def remove_ibautomater_config(workdir: Path) -> Path | None:
    """After the engine exited: remove a clear-text IBAutomater.json a killed run left; its path, or None."""
    try:
        with open(workdir / CONFIG_FILE, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    launcher = config.get("composer-dll-directory") if isinstance(config, dict) else None
    if not launcher:
        return None
    path = Path(launcher) / IBAUTOMATER_CONFIG
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError:
        return None
    return path


# LEAN ends the run itself on an Error or ActionRequired brokerage message: its DefaultBrokerageMessageHandler calls
# SetRuntimeError (Common/Brokerages/DefaultBrokerageMessageHandler.cs:92-96,168-171@24863901), which logs the line
# below (Common/Extensions.cs:4077-4083, context names Common/Messages/Messages.Brokerages.cs:284,311); the
# algorithm loop then returns without OnEndOfAlgorithm (Engine/AlgorithmManager.cs:362-366), so no stopped line,
# and LEAN exits with 1 (Launcher/Program.cs:110-114). The message itself was logged just before, by
# Brokerage.OnMessage (Brokerages/Brokerage.cs:310-323, text Messages.Brokerages.cs:270-273): the IB plugin sends
# ActionRequired 2FAAuthRequired when the weekly 2FA is not approved (InteractiveBrokersBrokerage.cs:5261-5270
# @d154917). tests/fixtures/lean/brokerage-end-excerpt.json.
BROKERAGE_MESSAGE = re.compile(r"Brokerage\.OnMessage\(\): (Error|ActionRequired) - Code: (\S*) - (.*)")
BROKERAGE_RUNTIME_ERROR = re.compile(
    r"Extensions\.SetRuntimeError\(\): RuntimeError at .*? UTC\. Context: (Brokerage Error|Brokerage Disconnect)"
    r"(?: System\.Exception: (.*))?"
)


class BrokerageEnd:
    """Reads the engine's output for a run LEAN ended itself on a brokerage message, and why."""

    def __init__(self) -> None:
        self.message = ""  # the last Error/ActionRequired brokerage message before the end
        self.ended = ""  # the runtime error's context and text, once LEAN ended the run

    def feed(self, line: str) -> None:
        """One line of LEAN's output (already masked)."""
        if self.ended:
            return
        message = BROKERAGE_MESSAGE.search(line)
        if message is not None:
            kind, code, text = message.groups()
            self.message = f"{kind} {code}: {text.strip()}"
            return
        ended = BROKERAGE_RUNTIME_ERROR.search(line)
        if ended is not None:
            context, text = ended.groups()
            self.ended = f"{context}: {(text or '').strip()}".rstrip(": ")

    def reason(self) -> str:
        """Why LEAN ended the run ("" when it did not): the brokerage's message, else the runtime error."""
        if not self.ended:
            return ""
        return self.message or self.ended


def _group_members() -> list[int]:
    """The other live processes of the supervisor's process group (Linux /proc)."""
    me, group = os.getpid(), os.getpgid(0)
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp; a zombie has already ended.
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def _end_leftovers() -> list[int]:
    """SIGTERM, then SIGKILL, every other process of the supervisor's process group; the pids signalled.

    Only when the supervisor leads its group (main's setsid): run inside another process (a test calling
    _babysit), the group is the caller's (pytest, make, the shell) and is left alone."""
    if os.getpgid(0) != os.getpid():
        return []
    leftovers = _group_members()
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in _group_members() if signum == signal.SIGKILL else leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
        deadline = time.monotonic() + 2.0
        while _group_members() and time.monotonic() < deadline:
            time.sleep(0.05)
    return leftovers


def _open_log(workdir: Path) -> int:
    """engine.log for appending: owner-only (0600), never through a symlink."""
    fd = os.open(
        workdir / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
    )
    os.fchmod(fd, 0o600)
    return fd


def _now() -> str:
    return contract_time()


def _tail(path: Path) -> list[str]:
    return tail_lines(path, 20, max_bytes=16384)


def _babysit(workdir: Path, run_id: str, command: list[str], ready_fd: int, context: list[str]) -> int:
    """Run the engine to its end; report start through ready_fd; record the exit."""
    secrets = _secrets(workdir)
    # O_APPEND (_open_log): logrotate's copytruncate (deploy/logrotate/tradedesk) can truncate it under us.
    log = os.fdopen(_open_log(workdir), "ab", buffering=0)
    started_by = f" [{' '.join(context)}]" if context else ""
    log.write(mask_secrets(f"--- {_now()} run {run_id}{started_by}: {' '.join(command)}\n".encode(), secrets))
    try:
        # The engine writes into a pipe and every line is masked here before it reaches engine.log
        # (a launcher that prints its config must not leak the IB password).
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            umask=ENGINE_UMASK,
        )
    except OSError as exc:
        message = mask_secrets(f"cannot start engine: {exc}".encode(), secrets).decode("utf-8", "replace")
        log.write(f"{message}\n".encode())
        write_json_atomic(
            workdir / PID_FILE, {"pid": None, "run_id": run_id, "started_at": _now(), "command": command}
        )
        write_json_atomic(
            workdir / EXIT_FILE,
            {
                "run_id": run_id,
                "pid": None,
                "exit_code": 127,
                "exited_at": _now(),
                "message": message,
                "log_tail": _tail(workdir / LOG_FILE),
            },
        )
        os.write(ready_fd, f"error {message}".encode())
        os.close(ready_fd)
        return 127
    write_json_atomic(
        workdir / PID_FILE,
        {
            "pid": proc.pid,
            "run_id": run_id,
            "started_at": _now(),
            "command": command,
            "supervisor": os.getpid(),
        },
    )
    os.write(ready_fd, f"ok {proc.pid}".encode())
    os.close(ready_fd)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    assert proc.stdout is not None
    stdout = proc.stdout

    brokerage_end = BrokerageEnd()

    def copy_output() -> None:
        while True:
            # Bounded reads: a line without a newline never grows without limit in memory.
            line = stdout.readline(1 << 16)
            if not line:
                break
            masked = mask_secrets(line, secrets)
            log.write(masked)
            brokerage_end.feed(masked.decode("utf-8", "replace"))

    # In a thread: a leftover child that inherited the pipe would keep the read open after the engine ended.
    reader = threading.Thread(target=copy_output, daemon=True)
    reader.start()
    code = proc.wait()
    reader.join(timeout=2)
    # What the engine left in this session's process group (IB Gateway's java and Xvfb, which IBAutomater.sh
    # starts, after a kill during setup or a crash) goes with it; a clean stop has already ended them.
    leftovers = _end_leftovers()
    reader.join(timeout=5)
    log.write(f"--- {_now()} run {run_id} exited with {code}\n".encode())
    if leftovers:
        log.write(f"--- {_now()} run {run_id}: ended leftover processes {leftovers}\n".encode())
    # A clean stop's Dispose already removed it; after a kill or crash it is still there, password and all.
    removed = remove_ibautomater_config(workdir)
    if removed is not None:
        log.write(f"--- {_now()} run {run_id}: removed {removed} (left by an unclean exit)\n".encode())
    record: dict[str, object] = {"run_id": run_id, "pid": proc.pid, "exit_code": code, "exited_at": _now()}
    reason = brokerage_end.reason()
    if reason:
        log.write(
            f"--- {_now()} run {run_id}: LEAN ended the run on a brokerage message: {reason}\n".encode()
        )
        record.update(ended_by="brokerage", message=reason)
    record["log_tail"] = _tail(workdir / LOG_FILE)
    write_json_atomic(workdir / EXIT_FILE, record)
    return code


def main(argv: list[str] | None = None) -> int:
    """Detach, start the engine, and return once its pid file is written (0) or it failed to start (1)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--context", action="append", default=[], help="key=value for the log's start line")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no engine command given")
    workdir = args.workdir.resolve()
    read_fd, write_fd = os.pipe()
    if os.fork() > 0:
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as ready:
            answer = ready.read().decode()
        if answer.startswith("ok "):
            print(answer[3:])
            return 0
        print(answer or "engine supervisor died before starting the engine", file=sys.stderr)
        return 1
    os.close(read_fd)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        code = _babysit(workdir, args.run_id, command, write_fd, args.context)
    finally:
        os._exit(0)
    return code  # pragma: no cover - os._exit above


if __name__ == "__main__":
    sys.exit(main())
