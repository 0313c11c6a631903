"""The preflight door: check on this host what a live LEAN start on IB needs."""

from execution.engine.preflight import run_preflight

__all__ = ["run_preflight"]
