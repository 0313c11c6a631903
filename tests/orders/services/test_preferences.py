"""The colour convention a trader reads: stored per user, else the desk's setting, else the page's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.errors import OrderValidationError
from orders.models import ColourChoice, ColourConvention
from orders.services import (
    colour_convention_default,
    colour_convention_for,
    colour_convention_remember,
    colour_convention_remembered,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_with_no_choice_chinese_reads_red_up_and_others_green_up(settings: Any) -> None:
    settings.TRADEDESK_COLOUR_CONVENTION = "auto"
    assert colour_convention_default(language="zh-hans") == ColourConvention.RED_UP
    assert colour_convention_default(language="en") == ColourConvention.GREEN_UP
    assert colour_convention_default(language="") == ColourConvention.GREEN_UP


@pytest.mark.parametrize("desk", ["red-up", "green-up"])
def test_the_desks_setting_overrides_the_language(settings: Any, desk: str) -> None:
    settings.TRADEDESK_COLOUR_CONVENTION = desk
    assert colour_convention_default(language="zh-hans") == desk
    assert colour_convention_default(language="en") == desk


def test_a_users_choice_wins_over_every_default(user: Any, settings: Any) -> None:
    settings.TRADEDESK_COLOUR_CONVENTION = "green-up"
    assert colour_convention_for(user=user, language="en") == "green-up"
    assert colour_convention_remember(user=user, convention=" red-up ") == "red-up"
    assert colour_convention_remembered(user=user) == "red-up"
    assert colour_convention_for(user=user, language="en") == "red-up"
    # One row per user: choosing again replaces it, and nobody else is affected.
    colour_convention_remember(user=user, convention="green-up")
    assert ColourChoice.objects.filter(user=user).count() == 1
    assert colour_convention_for(user=user, language="zh-hans") == "green-up"
    other = UserFactory(username="wei")
    settings.TRADEDESK_COLOUR_CONVENTION = "auto"
    assert colour_convention_remembered(user=other) is None
    assert colour_convention_for(user=other, language="zh-hans") == "red-up"


def test_an_anonymous_visitor_gets_the_default(settings: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    settings.TRADEDESK_COLOUR_CONVENTION = "auto"
    assert colour_convention_for(user=AnonymousUser(), language="zh-hans") == "red-up"
    assert colour_convention_for(user=None, language="en") == "green-up"


@pytest.mark.parametrize("bad", ["", "red", "RED-UP", "blue-up", "red-up; drop", "x" * 100])
def test_anything_but_the_two_conventions_is_refused_and_nothing_is_stored(user: Any, bad: str) -> None:
    with pytest.raises(OrderValidationError) as refused:
        colour_convention_remember(user=user, convention=bad)
    assert refused.value.errors == {"colours": "one of red-up, green-up"}
    assert not ColourChoice.objects.exists()


def test_the_database_refuses_a_convention_the_service_would_not_store(user: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ColourChoice.objects.create(user=user, convention="blue-up", chosen_at=timezone.now())
    assert not ColourChoice.objects.exists()


def test_the_settings_choices_are_the_models() -> None:
    """settings.py cannot import models, so it spells the conventions out: they must stay the model's."""
    import re
    from pathlib import Path

    from django.conf import settings

    source = (Path(settings.BASE_DIR) / "tradedesk" / "settings.py").read_text()
    spelled = re.search(r'env_choice\(\s*"TRADEDESK_COLOUR_CONVENTION", "auto", \(([^)]*)\)', source)
    assert spelled is not None
    assert re.findall(r'"([^"]+)"', spelled.group(1)) == ["auto", *ColourConvention.values]
