"""`manage.py create_api_token USERNAME`: prints a new API token as the last word of its output."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.doors import api_token_create


class Command(BaseCommand):
    """Create a Bearer token for a user."""

    help = "Create an API token for USERNAME; only its hash is stored, so copy it now."

    def add_arguments(self, parser: CommandParser) -> None:
        """USERNAME and an optional token name."""
        parser.add_argument("username")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create and print the token."""
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        _, raw = api_token_create(user=user, name=options["name"])
        self.stdout.write(f"API token for {user.get_username()}: {raw}")
