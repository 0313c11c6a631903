"""Planner statistics for the tables a desk has few rows in (projects, memberships, users, counters).

PostgreSQL's autovacuum analyzes a table after 50 rows + 10% of it changed: a desk's handful of projects and
memberships never get there, so they keep no statistics and the planner guesses their sizes; with a million
orders a wrong guess is a sort of the whole history (issue 22). Analyzing them costs milliseconds: after every
migrate (the post_migrate receiver in orders/apps.py) and hourly (beat: execution.tasks.analyze_small_tables)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections

from orders.models import ApiToken, EngineHalt, Project, ProjectChoice, ProjectVersion


def small_tables() -> list[str]:
    """The tables a desk has few rows in and whose rows every order list joins or filters by."""
    user_model: Any = get_user_model()
    models: list[Any] = [
        Project,
        Project.members.through,
        ProjectVersion,
        ProjectChoice,
        EngineHalt,
        ApiToken,
    ]
    models += [user_model, user_model.groups.through]
    return [model._meta.db_table for model in models]


def small_tables_analyze(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """ANALYZE the small tables on PostgreSQL (elsewhere nothing: SQLite plans these lists without statistics);
    returns the tables analyzed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    tables = small_tables()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables
