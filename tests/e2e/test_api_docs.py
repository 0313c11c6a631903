"""The API docs page (/api/docs, django-ninja's Swagger UI served under the CSP) in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e]


def test_api_docs_render_their_operation_list_under_the_csp(page: Page, desk: Any, user: Any) -> None:
    log_in(page.context, desk.url, user)
    page.goto(f"{desk.url}/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/trade/orders").first).to_be_visible()
