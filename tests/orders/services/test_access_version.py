"""The access counter moves with every change that may end someone's access to a project's page (a saved or
deleted user, a membership added, removed or cleared, a deleted project, a logout), only once that change
commits is it announced, and the book's own changes never move it."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from orders.services import access_changed, access_version
from orders.services.versions import project_versions_bump
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def announced() -> Any:
    sent: list[int] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append(access_version())

    access_changed.connect(receiver, dispatch_uid="test.access_announced")
    yield sent
    access_changed.disconnect(dispatch_uid="test.access_announced")


def test_a_membership_removed_added_or_cleared_moves_the_counter(user: Any, project: Any) -> None:
    before = access_version()
    project.members.remove(user)
    assert access_version() == before + 1
    user.trading_projects.add(project)
    assert access_version() == before + 2
    project.members.clear()
    assert access_version() == before + 3


def test_a_saved_or_deleted_user_and_a_deleted_project_move_the_counter(user: Any, project: Any) -> None:
    before = access_version()
    user.set_password("another one entirely")
    user.save()
    assert access_version() == before + 1
    project.delete()
    assert access_version() == before + 2
    other = UserFactory(username="bob")
    created = access_version()
    assert created > before + 2
    other.delete()
    assert access_version() == created + 1


def test_a_logout_moves_the_counter(user: Any) -> None:
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    before = access_version()
    import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).delete()
    assert access_version() == before + 1


def test_the_change_is_announced_after_its_commit_and_a_rolled_back_one_never(
    user: Any, project: Any, announced: list[int]
) -> None:
    with transaction.atomic():
        project.members.remove(user)
        assert announced == []
    assert announced == [access_version()]

    with pytest.raises(RuntimeError), transaction.atomic():
        project.members.add(user)
        raise RuntimeError("rolled back")
    assert len(announced) == 1
    assert not project.members.filter(pk=user.pk).exists()


def test_the_books_changes_leave_the_counter_alone(project: Any, announced: list[int]) -> None:
    before = access_version()
    project_versions_bump([project.pk])
    ProjectFactory(name="beta")
    assert access_version() == before and announced == []
