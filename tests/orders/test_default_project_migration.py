"""orders' migration 0015: the `default` PAPER project with no members, made once."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from orders.models import Mode, Project
from orders.services.projects import DEFAULT_PROJECT_NAME

migration = importlib.import_module("orders.migrations.0015_default_project")


def test_the_migration_makes_one_default_paper_project_without_members(db: Any) -> None:
    Project.objects.all().delete()
    migration.default_project_create(apps, None)
    migration.default_project_create(apps, None)
    project = Project.objects.get()
    assert (project.name, project.mode) == (DEFAULT_PROJECT_NAME, Mode.PAPER)
    assert not project.members.exists()


def test_the_migration_is_on_the_path_of_a_fresh_database() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert ("orders", "0015_default_project") in loader.graph.forwards_plan(
        loader.graph.leaf_nodes("orders")[0]
    )
    assert migration.DEFAULT_PROJECT_NAME == DEFAULT_PROJECT_NAME
