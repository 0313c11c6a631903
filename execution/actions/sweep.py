"""The sweep door: put lost orders back on the path, flag silent ones, release held closing orders."""

from execution.dispatch.sweep import SweepReport, closes_release, orders_sweep

__all__ = ["SweepReport", "closes_release", "orders_sweep"]
