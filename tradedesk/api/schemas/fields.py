"""The fields every API shape uses: decimals out as text, numbers and ids in, strict request bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Path, Schema
from pydantic import BeforeValidator, ConfigDict, PlainSerializer, StrictInt, WithJsonSchema

from orders.doors import MAX_DB_ID
from tradedesk.display import decimal_text

# Decimals travel as strings without trailing zeros ("410.45"), so no precision is lost in JSON.
Dec = Annotated[Decimal, PlainSerializer(decimal_text, return_type=str)]


def _number_text(value: Any) -> str:
    """A JSON number (exact: the parser reads floats as Decimal) or numeric string, as text for the service."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError("must be a number")
    return value if isinstance(value, str) else str(value)


# Checked as numbers by orders.services.validation (finite, within the column's digits, no "1_000").
NumberIn = Annotated[
    str,
    BeforeValidator(_number_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "maxLength": 64}]}),
]
# Ids only from JSON integers (not true, not "3"), within the database's bigint.
IdIn = Annotated[StrictInt, Field(ge=1, le=MAX_DB_ID)]


class StrictIn(Schema):
    """Request bodies: an unknown field is a 422 naming it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


# Query and path ids keep their usual parsing ("?project_id=3") but stay within the database's bigint.
QueryId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
