"""The project lock against PostgreSQL's foreign-key checks, with real threads (each its own connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from orders.models import ProjectVersion
from orders.services import project_lock
from orders.services.versions import project_versions_bump
from tests.factories import ProjectFactory
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and deferred FK checks: PostgreSQL"
    ),
]

WAIT = 20  # seconds a step may wait for the other thread before the test gives up


def blocked_on_a_lock() -> bool:
    """Whether another connection of this database waits on a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
            "AND datname = current_database()"
        )
        return bool(cursor.fetchone()[0])


def test_a_lock_holder_and_a_new_rows_foreign_key_check_do_not_deadlock() -> None:
    """The order-POST deadlock: the ingest's first counter row for a project commits (its deferred FK check
    reads the project row) while an order creator holds the project lock and waits for that counter row."""
    project = ProjectFactory()
    ProjectVersion.objects.filter(project=project).delete()
    inserted, errors = threading.Event(), []
    release = threading.Event()

    def ingest_side() -> None:
        try:
            with transaction.atomic():
                project_versions_bump([project.pk])  # inserts the project's counter row, uncommitted
                inserted.set()
                release.wait(WAIT)
            # COMMIT ran the deferred FK check against the locked project row
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def order_side() -> None:
        try:
            inserted.wait(WAIT)
            with transaction.atomic():
                project_lock(project_id=project.pk)
                project_versions_bump([project.pk])  # waits for ingest_side's uncommitted row
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest_side), threading.Thread(target=order_side)]
    for thread in threads:
        thread.start()
    assert wait_for(blocked_on_a_lock, timeout=WAIT)  # the order side waits for the uncommitted counter row
    release.set()
    for thread in threads:
        thread.join(WAIT * 2)
    assert errors == []
    assert ProjectVersion.objects.get(project=project).orders == 2


def test_the_lock_still_excludes_a_second_holder() -> None:
    """Two order creators of one project still run one after the other."""
    project = ProjectFactory()
    holding, order = threading.Event(), []
    release = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                project_lock(project_id=project.pk)
                holding.set()
                release.wait(WAIT)
                order.append("first")
        finally:
            connection.close()

    def second() -> None:
        try:
            holding.wait(WAIT)
            with transaction.atomic():
                project_lock(project_id=project.pk)
                order.append("second")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert wait_for(blocked_on_a_lock, timeout=WAIT)  # the second holder waits
    release.set()
    for thread in threads:
        thread.join(WAIT * 2)
    assert order == ["first", "second"]
