"""CSV downloads: the rules, in one place, used by every download.

- UTF-8 with a BOM first, so Excel detects the encoding; a header row; comma separated, RFC 4180 quoting.
- Formula injection (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR
  gets a leading apostrophe. Numbers (ints, Decimals; amounts are signed) are written plain and never
  escaped: ``-2500`` is a number, not a formula. Whole-Rupiah amounts are written without ``.00`` so they
  read the same in every spreadsheet locale (``2500`` rather than ``2500.00``, which an Indonesian-locale
  sheet could read as 250000).
- Streamed: the rows (built by orders.reports.queries) go through one ``csv.writer`` over a small buffer,
  yielding one encoded chunk per batch of rows, so a million rows use constant memory.
- Times are written in WIB (Asia/Jakarta), to the minute.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from django.http import StreamingHttpResponse

from orders.reports.periods import JAKARTA

BATCH_ROWS = 500  # rows per yielded chunk of the response (~30-60 KB)
BOM = "\ufeff"
_FORMULA_START = frozenset("=+-@\t\r")


# --- cells --------------------------------------------------------------------------------------------
def escape_text(text: str) -> str:
    """A text cell, neutralised against formula injection (OWASP): a leading ' before = + - @ tab CR."""
    return "'" + text if text[:1] in _FORMULA_START else text


def money_cell(value: Decimal | int | None) -> str:
    """An amount as a plain number: 2500, -2500, 1234.50 (no exponent, no thousands separator)."""
    if value is None:
        return ""
    text = str(value)
    if "E" in text:  # str() of a Decimal may use an exponent (1E+3); a spreadsheet wants 1000
        text = format(value, "f")
    return text[:-3] if text.endswith(".00") else text


def wib(moment: datetime | None) -> str:
    """A stored (aware) time as WIB, ISO-like: 2026-11-21 14:05."""
    if moment is None:
        return ""
    return moment.astimezone(JAKARTA).isoformat(" ", "minutes")[:16]


def wib_stamper():
    """`wib` for a stream of times in (roughly) ascending order: rows in one minute share one conversion.

    A database returns every time of one query in one zone (UTC here), so equal wall-clock minutes of the
    returned values are the same instant's minute and map to the same WIB minute, whatever the offsets."""
    last_key: tuple | None = None
    last_text = ""

    def stamp(moment: datetime | None) -> str:
        nonlocal last_key, last_text
        if moment is None:
            return ""
        key = (moment.minute, moment.hour, moment.day, moment.month, moment.year, moment.tzinfo)
        if key != last_key:
            last_key, last_text = key, wib(moment)
        return last_text

    return stamp


def escape_cell(value: object) -> object:
    """Any value as a safe CSV cell: numbers stay numbers (never escaped), text is escaped, None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return escape_text(str(value))
    if isinstance(value, Decimal):
        return money_cell(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return wib(value)
    if isinstance(value, date):
        return value.isoformat()
    return escape_text(str(value))


# --- streaming ----------------------------------------------------------------------------------------
def csv_stream(header: Sequence[str], rows: Iterable[Sequence[object]], batch: int = BATCH_ROWS) -> Iterator[bytes]:
    """BOM + header, then the rows in encoded chunks of `batch` rows. Pulls rows lazily: nothing is read
    from `rows` before the first data chunk is asked for, and never more than one batch ahead.

    Rows must already be safe cells (the row generators in orders.reports.queries escape as they build);
    `header` is escaped.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_text(str(name)) for name in header])
    yield (BOM + buffer.getvalue()).encode("utf-8")
    rows = iter(rows)
    while True:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(islice(rows, batch))
        data = buffer.getvalue()
        if not data:
            return
        yield data.encode("utf-8")


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> StreamingHttpResponse:
    """A streamed CSV download (text/csv; charset=utf-8, BOM, attachment)."""
    response = StreamingHttpResponse(csv_stream(header, rows), content_type="text/csv; charset=utf-8")
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "private, no-store"
    return response
