"""Reading vendor values: numbers sent as numbers or strings, strict flags, typed records of a JSON reply.

Every helper raises ProviderBadResponse naming the field, so a shape error reads `data[3].price: missing`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ProviderBadResponse


def to_decimal(value: Any, *, field: str = "value") -> Decimal:
    """Vendors send numbers as numbers or strings ("650", "500000.00", 1,5). Reject anything else."""
    if isinstance(value, bool) or value is None:
        raise ProviderBadResponse(f"{field}: expected a number, got {value!r}")
    try:
        result = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ProviderBadResponse(f"{field}: expected a number, got {value!r}") from None
    if not result.is_finite():
        raise ProviderBadResponse(f"{field}: expected a number, got {value!r}")
    return result


def to_int(value: Any, *, field: str = "value", default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    number = to_decimal(value, field=field)
    if number != number.to_integral_value():
        raise ProviderBadResponse(f"{field}: expected a whole number, got {value!r}")
    return int(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y")
    return bool(value)


_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})


def describe(value: Any) -> str:
    """A short repr for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_flag(value: Any, *, field: str = "value") -> bool:
    """A strict boolean: true/false, 1/0 or their string forms; anything else is a shape error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ProviderBadResponse(f"{field}: expected true or false, got {describe(value)}")


def as_mapping(value: Any, *, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProviderBadResponse(f"{field}: expected an object, got {describe(value)}")
    return value


def as_list(value: Any, *, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProviderBadResponse(f"{field}: expected a list, got {describe(value)}")
    return value


class Record:
    """One JSON object of a vendor reply with typed accessors. A missing required field or a value
    of the wrong type raises ProviderBadResponse naming the field by its path (`data[3].price`)."""

    __slots__ = ("data", "path")

    def __init__(self, value: Any, path: str = "") -> None:
        self.path = path
        self.data: Mapping[str, Any] = as_mapping(value, field=path or "reply")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def _value(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise ProviderBadResponse(f"{self.where(key)}: missing")
            return None
        return value

    def text(self, key: str, *, required: bool = False) -> str:
        value = self._value(key, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ProviderBadResponse(f"{self.where(key)}: expected text, got {describe(value)}")
        return value

    def ident(self, key: str, *, required: bool = True) -> str:
        """An id: vendors send them as strings or integers."""
        value = self._value(key, required)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ProviderBadResponse(f"{self.where(key)}: expected an id, got {describe(value)}")
        return str(value).strip()

    def decimal(self, key: str, *, required: bool = True) -> Decimal | None:
        value = self._value(key, required)
        return None if value is None else to_decimal(value, field=self.where(key))

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self._value(key, required)
        return None if value is None else to_int(value, field=self.where(key))

    def flag(self, key: str, *, required: bool = False) -> bool:
        value = self._value(key, required)
        return False if value is None else to_flag(value, field=self.where(key))

    def record(self, key: str, *, required: bool = True) -> Record:
        value = self._value(key, required)
        return Record({} if value is None else value, self.where(key))

    def records(self, key: str) -> list[Record]:
        return records(self.data.get(key), self.where(key))


def records(value: Any, path: str) -> list[Record]:
    """A JSON list of objects, each read as a Record (`path[i]`)."""
    if value is None:
        raise ProviderBadResponse(f"{path}: missing")
    return [Record(item, f"{path}[{index}]") for index, item in enumerate(as_list(value, field=path))]


def unique(ids: Sequence[str]) -> list[str]:
    """Ids in their first order, without blanks or repeats (a batch asks for each id once)."""
    return list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
