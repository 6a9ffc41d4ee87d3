"""URL converters: ``<int:id>`` that stops at the largest id a table can hold."""
from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from services.infra import MAX_ID


class DatabaseIdConverter(IntegerConverter):
    """``<int:id>`` answers 404 past the largest id its table can hold, not an overflow error.

    The ids in paths (alerts, rules) are 32-bit integer columns; PostgreSQL refuses a larger
    number even in a comparison. The 404 is raised here rather than by a ``max`` bound,
    with which Werkzeug would go on matching and answer a misleading 405.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound(f"No item has the id {value[:30]}: ids go up to {MAX_ID}.")
        return number
