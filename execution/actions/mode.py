"""The mode-switch door: a project between paper and live (LIVE needs orders.trade_live and no working orders),
under the project's lock, audited. No engine is told: the next order goes to the new mode's engine."""

from orders.services import project_set_mode

__all__ = ["project_set_mode"]
