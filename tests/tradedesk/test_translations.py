"""The zh-hans catalogue: every message translated and none left fuzzy (msgfmt drops fuzzy entries, so the
page would show them in English), and the compiled catalogue in the repository matches its source."""

from __future__ import annotations

import re
import shutil
import subprocess
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
