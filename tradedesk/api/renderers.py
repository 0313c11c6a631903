"""The API's JSON renderer: orjson, with Django's JSON encoder for what orjson does not write the same way."""

from __future__ import annotations

import json
from typing import Any

import orjson
from django.http import HttpRequest
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_encoder = NinjaJSONEncoder()
# Datetimes go through Django's encoder (milliseconds, "Z"), as with ninja's own JSONRenderer.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class ORJSONRenderer(BaseRenderer):
    """ninja's JSONRenderer, 5-10x faster; falls back to it for values orjson refuses (64-bit+ integers)."""

    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        """The response body."""
        try:
            return orjson.dumps(data, default=_encoder.default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError
            return json.dumps(data, cls=NinjaJSONEncoder)
