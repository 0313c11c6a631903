"""The auth backend reads a user's permissions, direct and through groups, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradedesk.auth_backends import CachedModelBackend

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request loads it: no permission cache yet."""
    return User.objects.get(pk=user.pk)


def test_direct_and_group_permissions_are_read_in_one_query() -> None:
    user = User.objects.create_user("ana", password="x")
    user.user_permissions.add(Permission.objects.get(codename="trade_live"))
    group = Group.objects.create(name="halters")
    group.permissions.add(Permission.objects.get(codename="halt_engine"))
    user.groups.add(group)
    user = fresh(user)
    with CaptureQueriesContext(connection) as reads:
        held = CachedModelBackend().get_all_permissions(user)
        assert user.has_perm("orders.trade_live") and user.has_perm("orders.halt_engine")
        assert not user.has_perm("orders.delete_tradeorder")
    assert {"orders.trade_live", "orders.halt_engine"} == held
    assert len(reads) == 1


def test_an_inactive_user_holds_nothing_and_a_superuser_everything() -> None:
    inactive = User.objects.create_user("bo", password="x", is_active=False)
    inactive.user_permissions.add(Permission.objects.get(codename="trade_live"))
    root = User.objects.create_superuser("root", password="x")
    assert CachedModelBackend().get_all_permissions(fresh(inactive)) == set()
    assert "orders.trade_live" in CachedModelBackend().get_all_permissions(fresh(root))
    assert len(CachedModelBackend().get_all_permissions(fresh(root))) == Permission.objects.count()
