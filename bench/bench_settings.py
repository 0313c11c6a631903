"""tradedesk's settings plus the benchmarks' URLs (a bare JSON view next to the app's routes)."""

from tradedesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
