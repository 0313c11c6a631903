"""Deploy runs no X display of its own: IBAutomater.sh kills every Xvfb and starts its own on :1.

IBAutomater 2.0.91 (20815f591bebf727e5fd0adbc614bd7d3a505e96, pinned by the IB plugin's csproj line 35 at
d154917dc6ec7fa99f2e588d3f5146c3b73b6344), QuantConnect.IBAutomater/IBAutomater.sh:7-8,12,15-17:
tests/fixtures/ibautomater/ibautomater-sh.json. The X libraries are LEAN's own image's
(DockerfileLeanFoundation:15-24 at 24863901deffa9ec7985e21ef8fbdb0258efb9e4):
tests/fixtures/lean/dockerfile-foundation-excerpt.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from execution.engine.process import engine_environment

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def _excerpt(path: Path) -> list[str]:
    return [line for excerpt in json.loads(path.read_text())["excerpts"] for line in excerpt["text"]]


def test_the_pinned_ibautomater_kills_every_xvfb_and_starts_its_own_display() -> None:
    fixture = json.loads((FIXTURES / "ibautomater" / "ibautomater-sh.json").read_text())
    assert 'Version="2.0.91"' in fixture["_source"]["pinned_by"]["text"][0]
    assert fixture["_source"]["version_line"]["text"] == ["    <Version>2.0.91</Version>"]
    script = fixture["excerpts"][0]["text"]
    assert script[6] == "pkill -9 Xvfb"  # line 7
    assert script[14:17] == [
        "unset DISPLAY",
        "Xvfb :1 -screen 0 1024x768x24 2>&1 >/dev/null &",
        "export DISPLAY=:1",
    ]


def test_no_unit_runs_a_display_and_no_env_sets_one() -> None:
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert units
    for unit in units:
        directives = [line for line in unit.read_text().splitlines() if not line.startswith("#")]
        assert not [line for line in directives if "xvfb" in line.lower() or "DISPLAY" in line], unit.name
    assert not (ROOT / "deploy" / "systemd" / "tradedesk-xvfb.service").exists()
    for env in ("engine.env", "tradedesk.env"):
        text = (ROOT / "deploy" / env).read_text()
        assert not re.search(r"^\s*DISPLAY=", text, re.MULTILINE), env


def test_the_engine_process_gets_no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("XAUTHORITY", "/home/tradedesk/.Xauthority")
    env = engine_environment({})
    assert "DISPLAY" not in env
    assert "XAUTHORITY" not in env
    assert "PATH" in env


def test_deploy_installs_the_x_libraries_of_leans_image_and_pkill() -> None:
    dockerfile = " ".join(_excerpt(FIXTURES / "lean" / "dockerfile-foundation-excerpt.json"))
    lean_x = [name for name in dockerfile.split() if name.startswith(("xvfb", "libx", "libgtk"))]
    assert lean_x == ["xvfb", "libxrender1", "libxtst6", "libxi6", "libgtk2.0.0"]
    installs = re.findall(r"^sudo apt-get install -y (.+)$", (ROOT / "docs" / "deploy.md").read_text(), re.M)
    packages = {name for line in installs for name in line.split("#")[0].split()}
    # Debian names LEAN's `libgtk2.0.0` (an apt pattern) libgtk2.0-0; pkill is in procps.
    wanted = {"libgtk2.0-0" if name == "libgtk2.0.0" else name for name in lean_x} | {"procps"}
    assert wanted <= packages
