"""Values the API sends with another type than the schema declares, converted so that records still validate.

The CDK's TypeTransformer does this by walking the JSON schema for every record, at about 300 us a record (a tenth
of the connector's budget per entity record). Pinterest's mismatches seen in the wild are top-level scalars (a
number where a string is declared, "true" for a boolean), so the schema is compiled once into a table of its
top-level scalar fields and a record costs one dict look-up per field whose type is already right."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

logger = logging.getLogger("airbyte")

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _to_string(value: Any) -> str:
    # Objects and arrays keep their content as JSON text rather than Python's repr.
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a count")
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _to_boolean(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "integer": _to_integer,
    "number": float,
    "boolean": _to_boolean,
}


def _scalar_type(field_schema: Mapping[str, Any]) -> str | None:
    """The one scalar type a field declares (besides null), or None when it declares several or a structure."""
    declared = field_schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    types = [t for t in types if t != "null"]
    return types[0] if len(types) == 1 and types[0] in _CONVERTERS else None


class RecordNormalizer:
    """Built once per stream from its schema; `normalize` converts a record's mismatched top-level scalars in place."""

    def __init__(self, stream_name: str, schema: Mapping[str, Any]) -> None:
        self._stream_name = stream_name
        self._fields: dict[str, tuple[tuple[type, ...], Callable[[Any], Any], str]] = {}
        for name, field_schema in (schema.get("properties") or {}).items():
            scalar = _scalar_type(field_schema)
            if scalar:
                self._fields[name] = (_PYTHON_TYPES[scalar], _CONVERTERS[scalar], scalar)
        self._warned: set[str] = set()

    def normalize(self, record: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for name, value in record.items():
            expected = self._fields.get(name)
            if expected is None or value is None:
                continue
            accepted, convert, type_name = expected
            # bool is an int in Python, but not an integer or a number in JSON.
            if type(value) in accepted and not (type(value) is bool and type_name != "boolean"):
                continue
            try:
                record[name] = convert(value)
            except (TypeError, ValueError, OverflowError):
                self._warn(name, value, type_name, "emitted as sent")
            else:
                self._warn(name, value, type_name, f"converted to {type_name}")
        return record

    def _warn(self, field: str, value: Any, type_name: str, outcome: str) -> None:
        # Once per field and sync: a systematic API change would otherwise flood the log.
        if field in self._warned:
            return
        self._warned.add(field)
        logger.warning(
            f"Stream {self._stream_name}: field '{field}' came as a JSON {type(value).__name__}, the schema declares "
            f"{type_name}; {outcome} (further occurrences in this sync are not logged)."
        )
