"""The engine-halt door: stop (or resume) new orders to a mode's engine, audited."""

from orders.services import engine_halt_set

__all__ = ["engine_halt_set"]
