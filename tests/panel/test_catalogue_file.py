"""The Indonesian catalogue: each msgid defined once, and the committed .mo compiled from the .po as it is
(several branches append to the .po; a stale or hand-merged .mo would show old or English text)."""

from __future__ import annotations

import polib

from panel.i18n_compile import LOCALE_DIR, duplicates

PO = LOCALE_DIR / "id" / "LC_MESSAGES" / "django.po"


def test_each_msgid_is_defined_once():
    assert duplicates(polib.pofile(str(PO))) == []


def test_the_committed_mo_matches_the_po():
    po = {
        (e.msgctxt, e.msgid): e.msgstr
        for e in polib.pofile(str(PO))
        if e.msgstr and not e.obsolete and "fuzzy" not in e.flags
    }
    mo = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(PO.with_suffix(".mo"))) if e.msgid}
    assert {k: v for k, v in po.items() if mo.get(k) != v} == {}
