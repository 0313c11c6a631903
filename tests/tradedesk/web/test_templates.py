"""Template source rules Django does not enforce itself."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_no_template_comment_spans_lines() -> None:
    # Django's {# #} is one line only: a second line makes the whole comment render as page text.
    open_comment = re.compile(r"\{#(?![^\n]*#\})")
    broken = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if open_comment.search(line)
    ]
    assert broken == []
