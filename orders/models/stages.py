"""Where an order's time went: one row per order with the moment of each stage, in their own table, so
recording them never moves the project's change counter the push watches (a push would echo itself)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

# The stages in their order; each column is `<stage>_at`.
ORDER_STAGES = (
    "clicked",  # the trader's click, the client's clock (clamped to the server's: see orders.services.stages)
    "committed",  # the order row committed
    "picked_up",  # the dispatch task started on it (its claim)
    "handed_over",  # the intent or command written for the engine
    "submitted",  # the engine's Submitted event (the engine's clock)
    "filled",  # the engine's Filled event (the engine's clock)
    "ingested",  # the Filled event applied to the ledger
    "pushed",  # the first page stream told that the orders changed after that
)


class OrderStageTimes(models.Model):
    """The moments of one order's stages (null: not reached, or not recorded for this order)."""

    order = models.OneToOneField(
        "orders.TradeOrder", on_delete=models.CASCADE, primary_key=True, related_name="stage_times"
    )
    clicked_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "order stage times"
        verbose_name_plural = "order stage times"
        constraints = [
            # The client's clock is clamped to the commit: a click is never after its order's commit.
            models.CheckConstraint(
                condition=Q(clicked_at__isnull=True)
                | Q(committed_at__isnull=True)
                | Q(clicked_at__lte=F("committed_at")),
                name="order_stage_click_not_after_commit",
            ),
        ]
        indexes = [
            # The stream's "pushed" update reads only the fills ingested and not yet pushed (a handful).
            models.Index(
                fields=["order"],
                condition=Q(pushed_at__isnull=True, ingested_at__isnull=False),
                name="order_stage_push_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"stages of order {self.order_id}"
