"""Engine-side files: secrets masked in engine.log, owner-only modes, no symlinks, results removed once read."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from execution import simulator
from execution.contract.files import read_json, write_json_atomic
from execution.contract.folder import EXIT_FILE, LOG_FILE
from execution.engine import process as engines
from execution.engine.supervise import _babysit


def test_the_supervisor_masks_configured_secrets_and_writes_engine_log_0600(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"ib-password": "hunter2-secret", "ib-user-name": "desk-login", "ib-host": "127.0.0.1"})
    )
    printer = "import sys; print(open('config.json').read()); print('pw=hunter2-secret', file=sys.stderr)"
    read_fd, write_fd = os.pipe()
    _babysit(tmp_path, "run-1", [sys.executable, "-c", printer], write_fd, [])
    os.close(read_fd)
    log = (tmp_path / LOG_FILE).read_text()
    exit_record = (tmp_path / EXIT_FILE).read_text()
    assert "hunter2-secret" not in log and "desk-login" not in log and "127.0.0.1" in log
    assert "hunter2-secret" not in exit_record and "pw=********" in log
    assert stat.S_IMODE((tmp_path / LOG_FILE).stat().st_mode) == 0o600


def test_the_supervisor_ends_leftovers_only_of_a_group_it_leads(tmp_path: Path) -> None:
    """Run in-process (not detached by main's setsid), _babysit must not signal its caller's process group:
    under `make test` that group is make, the shell and pytest's siblings."""
    (tmp_path / "config.json").write_text("{}")
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # pytest's group
    try:
        read_fd, write_fd = os.pipe()
        _babysit(tmp_path, "run-2", [sys.executable, "-c", "pass"], write_fd, [])
        os.close(read_fd)
        assert sibling.poll() is None, "the caller's process group was signalled"
    finally:
        sibling.kill()
        sibling.wait()


@pytest.mark.parametrize("append", [simulator.open_events_for_append])
def test_engines_never_append_through_a_symlinked_events_file(tmp_path: Path, append: Any) -> None:
    target = tmp_path / "victim"
    target.write_bytes(b"precious\n")
    link = tmp_path / "events.jsonl"
    os.symlink(target, link)
    with pytest.raises(OSError):
        append(link)
    assert target.read_bytes() == b"precious\n"
    with append(tmp_path / "fresh.jsonl") as handle:
        handle.write(b"{}\n")
    assert stat.S_IMODE((tmp_path / "fresh.jsonl").stat().st_mode) & 0o077 == 0


def test_engine_json_files_are_read_without_following_symlinks(tmp_path: Path) -> None:
    secret = write_json_atomic(tmp_path / "elsewhere.json", {"a": 1})
    os.symlink(secret, tmp_path / "engine.pid")
    assert read_json(tmp_path / "engine.pid") is None and read_json(secret) == {"a": 1}
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_a_command_result_is_removed_once_read(execution_root: Path) -> None:
    engines.engine_dir("paper").mkdir(parents=True)
    path = engines.result_path("paper", "c-1")
    write_json_atomic(path, {"Success": True})
    assert engines.wait_command_result("paper", "c-1", timeout=0) == {"success": True}
    assert not path.exists()


def test_nothing_under_var_is_readable_by_other_users() -> None:
    assert stat.S_IMODE(settings.VAR_DIR.stat().st_mode) & 0o007 == 0
    probe = settings.VAR_DIR / "permission-probe"
    probe.write_text("x")
    try:
        assert stat.S_IMODE(probe.stat().st_mode) & 0o007 == 0
    finally:
        probe.unlink()


def test_the_atomic_write_leaves_the_mode_to_the_umask_when_asked(tmp_path: Path) -> None:
    tmp_path = tmp_path / "files"
    old = os.umask(0o027)
    try:
        owner = write_json_atomic(tmp_path / "owner.json", {"a": 1})
        shared = write_json_atomic(tmp_path / "shared.json", {"a": 1}, mode=None, indent=None)
    finally:
        os.umask(old)
    assert stat.S_IMODE(owner.stat().st_mode) == 0o600
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert shared.read_text() == '{"a": 1}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["owner.json", "shared.json"]  # no temp left
