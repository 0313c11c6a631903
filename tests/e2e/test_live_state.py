"""The page says when it is not live: a poll with no answer, a 500 and a 503 alike show the banner and turn
the live dot to "not live"; the next good answer clears both."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from orders.models import Project
from tests.e2e.conftest import open_desk

pytestmark = [pytest.mark.e2e]


@pytest.mark.parametrize(
    ("answer", "banner"),
    [
        ({"status": 500, "body": "<h1>Server Error (500)</h1>"}, "the server answered 500"),
        ({"status": 503, "body": ""}, "unavailable (503)"),
        (None, "Connection lost"),
    ],
)
def test_a_failing_poll_says_not_live_until_the_next_good_answer(
    page: Page, desk: Any, user: Any, project: Project, answer: dict[str, Any] | None, banner: str
) -> None:
    open_desk(page, desk, user, project)
    expect(page.get_by_test_id("conn-lost")).to_be_hidden()
    expect(page.get_by_test_id("not-live")).to_be_hidden()

    def fail(route: Route) -> None:
        if answer is None:
            route.abort()
        else:
            route.fulfill(status=answer["status"], body=answer["body"], content_type="text/html")

    page.route("**/live-trade/orders?*", fail)
    expect(page.get_by_test_id("conn-lost")).to_be_visible()
    expect(page.get_by_test_id("conn-lost")).to_contain_text(banner)
    expect(page.get_by_test_id("not-live")).to_be_visible()

    page.unroute("**/live-trade/orders?*")
    expect(page.get_by_test_id("conn-lost")).to_be_hidden()
    expect(page.get_by_test_id("not-live")).to_be_hidden()
