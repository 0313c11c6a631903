"""The cancel-all door (the kill switch): cancel every working order of a project; unknown ones are listed."""

from execution.dispatch.cancels import UNKNOWN_OUTCOME, orders_cancel_working

__all__ = ["UNKNOWN_OUTCOME", "orders_cancel_working"]
