"""Compile locale/*/LC_MESSAGES/django.po to .mo with polib, so neither CI nor a new machine needs
GNU gettext. (Collecting new strings with `manage.py makemessages` does need gettext.)

    python -m panel.i18n_compile
"""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def duplicates(po: polib.POFile) -> list[str]:
    """msgids defined twice (GNU msgfmt refuses them; polib would silently keep the last)."""
    seen: set[tuple[str | None, str]] = set()
    twice = []
    for entry in po:
        key = (entry.msgctxt, entry.msgid)
        if key in seen:
            twice.append(entry.msgid)
        seen.add(key)
    return twice


def compile_all() -> list[Path]:
    written = []
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        po = polib.pofile(str(po_path))
        if twice := duplicates(po):
            raise SystemExit(f"{po_path}: defined twice: {twice[:5]}")
        mo_path = po_path.with_suffix(".mo")
        po.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
