"""`manage.py seed_demo`: user demo/demo, the default and demo projects with filled positions (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from execution.actions import simulator_account_add
from orders import doors
from orders.models import Project, TradeOrder

DEMO_FILLS = [
    ("AAPL", "BUY", Decimal(10), Decimal("189.20")),
    ("MSFT", "BUY", Decimal(5), Decimal("410.45")),
    ("NVDA", "BUY", Decimal(8), Decimal("131.10")),
]


class Command(BaseCommand):
    """Create the demo user, projects and positions once; print demo's API token."""

    help = "Create demo data (safe to run again) and print a fresh API token for demo."

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed and print the token as the last word."""
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username="demo")
            if created:
                user.set_password("demo")
                user.save()
            default, _ = Project.objects.get_or_create(name="default")
            demo, _ = Project.objects.get_or_create(name="demo")
            default.members.add(user)
            demo.members.add(user)
            booked = []
            # Seeded history an hour ago, one order a minute: created, submitted a second later, filled a
            # second after that; the rows' own clocks (updated_at, received_at) are now, after all of it.
            start = timezone.now() - timedelta(hours=1)
            for number, (symbol, side, quantity, price) in enumerate(DEMO_FILLS, start=1):
                client_order_id = f"demo_seed_{number}"
                if TradeOrder.objects.filter(client_order_id=client_order_id).exists():
                    continue
                booked.append((symbol, quantity if side == "BUY" else -quantity, price))
                # Seeded history, not a live order: source "seed" is never sent to an engine.
                doors.order_seed_filled(
                    project=demo,
                    client_order_id=client_order_id,
                    symbol=symbol,
                    side=side,
                    quantity=quantity,
                    price=price,
                    fee=Decimal(1),
                    user=user,
                    opened_at=start + timedelta(minutes=number),
                    event_key=f"seed-{client_order_id}",
                )
            if booked and settings.TRADEDESK_ENGINE == "simulator":
                # The simulated broker holds what the seeded fills bought, so reconciliation agrees.
                simulator_account_add(mode=demo.mode, fills=booked)
        _, raw = doors.api_token_create(user=user, name="seed_demo")
        self.stdout.write(f"demo user: demo / demo; projects: default, demo (id {demo.pk})")
        self.stdout.write(f"demo API token: {raw}")
