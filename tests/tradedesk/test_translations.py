"""The zh-hans catalogue: every message translated and none left fuzzy (msgfmt drops fuzzy entries, so the
page would show them in English), and the compiled catalogue in the repository matches its source."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries() -> list[str]:
    """The catalogue's entries (blocks between blank lines), header excluded."""
    return [block for block in PO.read_text(encoding="utf-8").split("\n\n")[1:] if "msgid" in block]


def test_no_entry_is_fuzzy() -> None:
    fuzzy = [block for block in entries() if re.search(r"^#,.*\bfuzzy\b", block, re.M)]
    assert fuzzy == []


def test_every_entry_has_a_translation() -> None:
    empty = [block for block in entries() if re.search(r'^msgstr(\[0\])? ""\n(?!")', block + "\n", re.M)]
    assert empty == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_compiled_catalogue_matches_its_source(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == PO.with_suffix(".mo").read_bytes()


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext's xgettext is not installed")
def test_every_marked_string_of_the_code_has_a_translation(tmp_path: Path) -> None:
    """makemessages over a copy of the sources adds no entry without a translation (nor a fuzzy guess)."""
    base, copy = Path(settings.BASE_DIR), tmp_path / "src"
    copy.mkdir()
    for name in ("manage.py", "orders", "execution", "tradedesk", "templates", "locale"):
        source = base / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy(source, copy / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    merged = (copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    blocks = [block for block in merged.split("\n\n")[1:] if "msgid" in block]
    missing = [
        block.split("msgid ", 1)[1].split("\n", 1)[0]
        for block in blocks
        if re.search(r"^#,.*\bfuzzy\b", block, re.M)
        or re.search(r'^msgstr(\[0\])? ""\n(?!")', block + "\n", re.M)
    ]
    assert missing == []


def test_the_admin_bulk_actions_say_what_they_do() -> None:
    """Cancel and revoke are not "close" (平仓 closes a position): each action has its own words."""
    from django.utils import translation

    with translation.override("zh-hans"):
        cancel, revoke, close = (
            translation.gettext(text)
            for text in ("Cancel selected", "Revoke selected tokens", "Close selected")
        )
    assert (cancel, revoke, close) == ("撤销所选", "撤销所选令牌", "平仓所选")
