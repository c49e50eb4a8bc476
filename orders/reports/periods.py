"""The period of a report: calendar days in Asia/Jakarta (WIB), both ends included.

A range is [start 00:00 WIB, end + 1 day 00:00 WIB). From a query string: `start` and `end` as YYYY-MM-DD,
the last 30 days by default, at most 366 days; a bad date is a DateRangeError whose message is fit to show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

JAKARTA = ZoneInfo("Asia/Jakarta")
DEFAULT_DAYS = 30
MAX_DAYS = 366
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DateRangeError(ValueError):
    """A bad `start`/`end`; the message is fit to show the user."""


@dataclass(frozen=True)
class DateRange:
    """Calendar days in WIB, both ends included."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=JAKARTA)

    @property
    def end_before(self) -> datetime:
        """The first moment after the range (exclusive upper bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=JAKARTA)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def filename(self, stem: str) -> str:
        return f"{stem}_{self.start.isoformat()}_{self.end.isoformat()}.csv"

    def as_query(self) -> str:
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"


def today_wib() -> date:
    return timezone.now().astimezone(JAKARTA).date()


def _parse_day(raw: str, name: str) -> date:
    text = raw.strip()
    if not _ISO_DATE.fullmatch(text):
        raise DateRangeError(_("%(name)s must be a date written YYYY-MM-DD, e.g. 2026-11-21.") % {"name": name})
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DateRangeError(_("%(name)s is not a real date: %(value)s.") % {"name": name, "value": text}) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise DateRangeError(
            _("%(name)s must be between %(min)s and %(max)s.")
            % {"name": name, "min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
        )
    return day


def parse_date_range(
    params: Mapping[str, str], *, default_days: int = DEFAULT_DAYS, max_days: int = MAX_DAYS, today: date | None = None
) -> DateRange:
    """`start` and `end` (YYYY-MM-DD, WIB days, both included) from a query. Missing: the last
    `default_days` days up to today; only `start`: up to today; only `end`: `default_days` days up to it.
    Raises DateRangeError for a malformed date, start after end, or more than `max_days` days."""
    raw_start = (params.get("start") or "").strip()
    raw_end = (params.get("end") or "").strip()
    end = _parse_day(raw_end, _("End date")) if raw_end else (today or today_wib())
    start = _parse_day(raw_start, _("Start date")) if raw_start else end - timedelta(days=default_days - 1)
    if start > end:
        raise DateRangeError(_("The start date must not be after the end date."))
    period = DateRange(start, end)
    if period.days > max_days:
        raise DateRangeError(
            _("A report covers at most %(max)d days; this range has %(days)d.") % {"max": max_days, "days": period.days}
        )
    return period
