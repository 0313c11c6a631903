"""Page routes of the orders app: the live-trade page, its partials and actions."""

from django.urls import path

from tradedesk.web import account, halts, positions, preferences, quote, stream, ticket, views

urlpatterns = [
    path("", views.home, name="home"),
    path("live-trade", views.live_trade, name="live-trade"),
    path("live-trade/orders", views.orders_panel, name="live-trade-orders"),
    path("live-trade/prices", views.positions_prices, name="live-trade-prices"),
    # Served by the ASGI stream process (docs/deploy.md); the WSGI web process answers it 204.
    path("live-trade/stream", stream.live_stream, name="live-trade-stream"),
    path("live-trade/account", account.account_strip, name="live-trade-account"),
    path("live-trade/engine-start", account.engine_start, name="live-trade-engine-start"),
    path("live-trade/quote", quote.ticket_quote, name="live-trade-quote"),
    path("live-trade/preview", ticket.order_preview, name="live-trade-preview"),
    path("live-trade/symbols", ticket.symbol_options, name="live-trade-symbols"),
    path("live-trade/orders/new", views.order_create, name="live-trade-order-new"),
    path("live-trade/orders/<int:order_id>", views.order_detail, name="live-trade-order"),
    path("live-trade/orders/<int:order_id>/cancel", views.order_cancel, name="live-trade-order-cancel"),
    path("live-trade/orders/<int:order_id>/modify", views.order_modify, name="live-trade-order-modify"),
    path("live-trade/orders/cancel-all", views.orders_cancel_all, name="live-trade-orders-cancel-all"),
    path("live-trade/positions/close", positions.positions_close, name="live-trade-close"),
    path("live-trade/positions/liquidate", positions.positions_liquidate, name="live-trade-liquidate"),
    path("live-trade/trading-state", views.trading_state, name="live-trade-trading-state"),
    path("live-trade/mode", views.project_mode, name="live-trade-mode"),
    path("live-trade/engine-halt", halts.engine_halt, name="live-trade-engine-halt"),
    path("live-trade/time-zone", preferences.time_zone_set, name="live-trade-time-zone"),
    path("live-trade/colours", preferences.colours_set, name="live-trade-colours"),
]
