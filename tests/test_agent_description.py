"""IB_AGENT_DESCRIPTION is IB's Rule 80A letter: exactly the plugin's letters, default I, a word stops start-up.

The letters and the default are read from tests/fixtures/ib/agent-description-excerpt.json
(QuantConnect/Lean.Brokerages.InteractiveBrokers@d154917: Client/AgentDescription.cs:18-72,
InteractiveBrokersBrokerage.cs:372).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_production_settings import ROOT, base_env

EXCERPT = Path(__file__).resolve().parent / "fixtures" / "ib" / "agent-description-excerpt.json"
SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.IB_AGENT_DESCRIPTION)"


def excerpt_text(path_end: str, lines: str) -> str:
    excerpt = json.loads(EXCERPT.read_text())
    match = [e for e in excerpt["excerpts"] if e["path"].endswith(path_end) and e["lines"] == lines]
    assert len(match) == 1
    return "\n".join(match[0]["text"])


def plugin_letters() -> dict[str, str]:
    """The plugin's AgentDescription constants (name -> letter), its empty None left out."""
    text = excerpt_text("AgentDescription.cs", "18-72")
    found = dict(re.findall(r'public const string (\w+) = "(\w*)";', text))
    assert found.pop("None") == ""
    return found


def show(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = base_env(tmp_path, **extra)
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_settings_accept_exactly_the_plugin_letters() -> None:
    letters = plugin_letters()
    assert len(letters) == 9
    assert sorted(settings.IB_AGENT_DESCRIPTIONS) == sorted(letters.values())


def test_default_is_the_plugin_default_individual(tmp_path: Path) -> None:
    default = excerpt_text("InteractiveBrokersBrokerage.cs", "372")
    assert 'Config.GetValue("ib-agent-description", IB.AgentDescription.Individual)' in default
    result = show(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == plugin_letters()["Individual"] == "I"


def test_a_letter_is_accepted(tmp_path: Path) -> None:
    result = show(tmp_path, IB_AGENT_DESCRIPTION="K")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "K"


@pytest.mark.parametrize("value", ["Individual", "Agent", "ThirdParty", "Proprietary", "i", "II"])
def test_a_word_agent_code_stops_start_up(tmp_path: Path, value: str) -> None:
    result = show(tmp_path, IB_AGENT_DESCRIPTION=value)
    assert result.returncode != 0
    assert (
        f"IB_AGENT_DESCRIPTION={value!r} must be IB's Rule 80A letter, one of I, A, W, J, U, M, K, Y, N"
        in (result.stderr)
    )


SHIPPED_ENV_FILES = ("deploy/engine.env", ".env.example")


@pytest.mark.parametrize("name", SHIPPED_ENV_FILES)
def test_the_shipped_env_files_carry_a_letter_that_starts_up(tmp_path: Path, name: str) -> None:
    values = re.findall(r"^IB_AGENT_DESCRIPTION=(.*)$", (ROOT / name).read_text(), re.MULTILINE)
    for value in values:
        assert value in plugin_letters().values(), f"{name}: IB_AGENT_DESCRIPTION={value}"
        result = show(tmp_path, IB_AGENT_DESCRIPTION=value)
        assert result.returncode == 0, result.stderr


def test_the_engine_env_file_sets_the_letter() -> None:
    assert re.findall(
        r"^IB_AGENT_DESCRIPTION=(.*)$", (ROOT / "deploy/engine.env").read_text(), re.MULTILINE
    ) == ["I"]
