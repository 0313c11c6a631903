"""The page's P&L picture, drawn on the server as SVG (no charting library): the project's realised +
unrealised P&L through the session from its samples plus the live value, and per position a sparkline of
its last price. Colours come from the --td-up / --td-down classes (static/css/colours.css)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from execution.actions import pnl_samples_since
from execution.selectors import DayPnl
from orders.models import Position, Project

CHART_WIDTH, CHART_HEIGHT = 300, 60
SPARK_WIDTH, SPARK_HEIGHT = 60, 16


@dataclass(frozen=True)
class Line:
    """An SVG polyline's points in a viewBox of width x height, and where zero is (the chart's axis)."""

    points: str
    width: int
    height: int
    zero_y: float | None
    count: int


def line(values: list[Decimal], *, width: int, height: int, zero: bool = False) -> Line | None:
    """The values left to right, scaled into the box (a flat series sits in the middle); None for fewer than
    two. With `zero`, 0 is kept in range and its height returned (the P&L axis)."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    if zero:
        low, high = min(low, Decimal(0)), max(high, Decimal(0))
    span = high - low
    pad = 2.0

    def y(value: Decimal) -> float:
        if span == 0:
            return height / 2
        return round(pad + float((high - value) / span) * (height - 2 * pad), 2)

    step = width / (len(values) - 1)
    points = " ".join(f"{round(i * step, 2)},{y(value)}" for i, value in enumerate(values))
    return Line(points, width, height, y(Decimal(0)) if zero else None, len(values))


def pnl_chart(
    *, project: Project, positions: list[Position], day: DayPnl, total_now: Decimal, now: datetime
) -> dict[str, Any]:
    """The chart of the session so far (its samples, then the live total) and a sparkline per position;
    attaches `sparkline` to each position."""
    samples = pnl_samples_since(project=project, since=day.session_start)
    totals = [sample.realized_pnl + sample.unrealized_pnl for sample in samples] + [total_now]
    for position in positions:
        history = [Decimal(s.prices[position.symbol]) for s in samples if position.symbol in s.prices]
        last = getattr(getattr(position, "valuation", None), "last_price", None)
        if last is not None:
            history.append(last)
        position.sparkline = line(history, width=SPARK_WIDTH, height=SPARK_HEIGHT)  # type: ignore[attr-defined]
        position.sparkline_sign = (  # type: ignore[attr-defined]
            "up" if len(history) > 1 and history[-1] >= history[0] else "down"
        )
    return {
        "pnl_line": line(totals, width=CHART_WIDTH, height=CHART_HEIGHT, zero=True),
        "pnl_now": total_now,
        "pnl_since": day.session_start,
        "pnl_points": len(totals),
    }
