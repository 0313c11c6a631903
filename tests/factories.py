"""factory_boy factories: the one place tests build model rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from orders.models import Project, TradeOrder


class UserFactory(factory.django.DjangoModelFactory):
    """A trader with password `pw`."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"trader{n}")
    password = factory.django.Password("pw")


class ProjectFactory(factory.django.DjangoModelFactory):
    """A paper project."""

    class Meta:
        model = Project
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"project{n}")
    mode = "paper"

    @factory.post_generation
    def members(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """members=[user, ...]"""
        if create and extracted:
            self.members.add(*extracted)


class TradeOrderFactory(factory.django.DjangoModelFactory):
    """An order that is not sent anywhere (source 'test' enqueues nothing)."""

    class Meta:
        model = TradeOrder

    client_order_id = factory.Sequence(lambda n: f"oi_t_{n}")
    project = factory.SubFactory(ProjectFactory)
    mode = factory.LazyAttribute(lambda o: o.project.mode)
    symbol = "AAPL"
    side = "BUY"
    quantity = Decimal(1)
    order_type = "MKT"
    params = factory.LazyAttribute(lambda o: {"source": "test", "project_id": o.project.pk, "mode": o.mode})
