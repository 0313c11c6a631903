"""The domain's services: the only writers of order tables, one concern per module.

Dependency direction: `orders` imports nothing of the project above it (`execution`, `tradedesk`); callers
import these names from `orders.services`.
"""

from orders.services.access_version import access_changed, access_version, access_version_bump
from orders.services.archive import history_archive, month_start
from orders.services.audit import Actor, audit_record
from orders.services.auth_cache import (
    auth_cache_delete,
    auth_cache_invalidate,
    auth_cache_new_version,
    auth_cache_read,
    auth_cache_write,
)
from orders.services.brackets import (
    CLOSED_BY_CANCEL,
    CLOSED_BY_CLOSE,
    BracketLegs,
    bracket_children,
    bracket_groups_close,
    bracket_legs_resolve,
    bracket_payload,
)
from orders.services.buying_power import buying_power_left, check_buying_power
from orders.services.cancels import (
    order_cancel_record,
    trade_order_cancel_sent,
    trade_order_cancel_unsent,
    trade_orders_cancel_pending,
)
from orders.services.dispatch import (
    trade_order_cancel_before_dispatch,
    trade_order_claim_for_dispatch,
    trade_order_claim_resume,
    trade_order_dispatch_attempts,
    trade_order_record_dispatch,
    trade_order_release_claim,
    trade_orders_flag,
)
from orders.services.halts import (
    engine_halt_get,
    engine_halt_locked,
    engine_halt_permitted,
    engine_halt_set,
)
from orders.services.ledger import BatchReport, LedgerEvent, apply_engine_events
from orders.services.maintenance import small_tables_analyze
from orders.services.market import buying_power_source_register, market_price_source_register
from orders.services.modify import (
    order_modify_clear,
    order_modify_record,
    order_modify_refusal,
    order_modify_reject,
)
from orders.services.orders import (
    EngineGate,
    OrderCreateResult,
    client_order_id_new,
    create_trade_order,
    order_create_locked,
    trade_order_mark_reviewed,
)
from orders.services.positions import (
    ALREADY_CLOSING,
    ALREADY_FLAT,
    CLOSE_ACTION,
    CloseResult,
    close_order_blockers,
    is_close_order,
    positions_close,
    positions_liquidate,
)
from orders.services.preferences import (
    colour_convention_default,
    colour_convention_for,
    colour_convention_remember,
    colour_convention_remembered,
    time_zone_is_known,
    time_zone_remember,
    time_zone_remembered,
)
from orders.services.preview import OrderPreview, PriceReference, order_preview, price_reference
from orders.services.projects import (
    live_permitted,
    project_check_mode_switch,
    project_check_trading_state,
    project_default_for,
    project_for_user,
    project_lock,
    project_remember,
    project_remembered,
    project_set_mode,
    project_set_trading_state,
    require_live_permission,
    trade_live_permitted,
)
from orders.services.rehome import RehomeResult, ReloadedOrder, order_rehome
from orders.services.seed import order_seed_filled
from orders.services.stages import (
    STAGE_GAPS,
    order_stage_gaps,
    order_stages_pushed,
    order_stages_record,
    order_stages_record_many,
)
from orders.services.status import (
    StatusChange,
    apply_fill_to_order,
    apply_fills_to_orders,
    order_resolve_record,
    require_resolver,
    update_trade_order_status,
    update_trade_orders_status,
)
from orders.services.tokens import api_token_authenticate, api_token_create, api_token_revoke
from orders.services.validation import MAX_DB_ID, CleanOrder, bounded_id, clean_order_payload
from orders.services.versions import project_versions_bump_for_mode, project_versions_changed

__all__ = [
    "ALREADY_CLOSING",
    "ALREADY_FLAT",
    "CLOSED_BY_CANCEL",
    "CLOSED_BY_CLOSE",
    "CLOSE_ACTION",
    "MAX_DB_ID",
    "STAGE_GAPS",
    "Actor",
    "BatchReport",
    "BracketLegs",
    "CleanOrder",
    "CloseResult",
    "EngineGate",
    "LedgerEvent",
    "OrderCreateResult",
    "OrderPreview",
    "PriceReference",
    "RehomeResult",
    "ReloadedOrder",
    "StatusChange",
    "access_changed",
    "access_version",
    "access_version_bump",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "apply_engine_events",
    "apply_fill_to_order",
    "apply_fills_to_orders",
    "audit_record",
    "auth_cache_delete",
    "auth_cache_invalidate",
    "auth_cache_new_version",
    "auth_cache_read",
    "auth_cache_write",
    "bounded_id",
    "bracket_children",
    "bracket_groups_close",
    "bracket_legs_resolve",
    "bracket_payload",
    "buying_power_left",
    "buying_power_source_register",
    "check_buying_power",
    "clean_order_payload",
    "client_order_id_new",
    "close_order_blockers",
    "colour_convention_default",
    "colour_convention_for",
    "colour_convention_remember",
    "colour_convention_remembered",
    "create_trade_order",
    "engine_halt_get",
    "engine_halt_locked",
    "engine_halt_permitted",
    "engine_halt_set",
    "history_archive",
    "is_close_order",
    "live_permitted",
    "market_price_source_register",
    "month_start",
    "order_cancel_record",
    "order_create_locked",
    "order_modify_clear",
    "order_modify_record",
    "order_modify_refusal",
    "order_modify_reject",
    "order_preview",
    "order_rehome",
    "order_resolve_record",
    "order_seed_filled",
    "order_stage_gaps",
    "order_stages_pushed",
    "order_stages_record",
    "order_stages_record_many",
    "positions_close",
    "positions_liquidate",
    "price_reference",
    "project_check_mode_switch",
    "project_check_trading_state",
    "project_default_for",
    "project_for_user",
    "project_lock",
    "project_remember",
    "project_remembered",
    "project_set_mode",
    "project_set_trading_state",
    "project_versions_bump_for_mode",
    "project_versions_changed",
    "require_live_permission",
    "require_resolver",
    "small_tables_analyze",
    "time_zone_is_known",
    "time_zone_remember",
    "time_zone_remembered",
    "trade_live_permitted",
    "trade_order_cancel_before_dispatch",
    "trade_order_cancel_sent",
    "trade_order_cancel_unsent",
    "trade_order_claim_for_dispatch",
    "trade_order_claim_resume",
    "trade_order_dispatch_attempts",
    "trade_order_mark_reviewed",
    "trade_order_record_dispatch",
    "trade_order_release_claim",
    "trade_orders_cancel_pending",
    "trade_orders_flag",
    "update_trade_order_status",
    "update_trade_orders_status",
]
