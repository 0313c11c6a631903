"""Page routes of the orders app."""

from django.urls import path

from orders import views

urlpatterns = [
    path("", views.home, name="home"),
    path("live-trade", views.live_trade, name="live-trade"),
]
