"""Finding English left in the Indonesian interface.

Two checks, because an English word reaches a page in two ways:

- `untranslated_msgids()`: while a page renders, every gettext/ngettext lookup made in Indonesian whose
  msgid has no entry in any catalogue (ours in locale/, Django's own) is recorded. A `{% trans %}`,
  a `gettext_lazy` label or an admin action description that nobody translated shows up here.
- `untranslatable_names()`: a model's or field's `verbose_name` that was never wrapped in gettext is
  shown as is (the admin derives "created at" from `created_at`); no lookup happens, so the first check
  cannot see it. This lists every name of our apps' models that is not a lazy translation with an
  Indonesian entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import override
from django.utils.translation.trans_real import DjangoTranslation

OUR_APPS = ("accounts", "providers", "orders", "sandbox")
_WORD = re.compile(r"[A-Za-z]{2,}")  # a msgid without a word ("%(n)s", "—") needs no translation


def _missing(translation: DjangoTranslation, key: object) -> bool:
    return translation.language() == "id" and key not in translation._catalog


@contextmanager
def untranslated_msgids() -> Iterator[set[str]]:
    """Collect the msgids looked up in Indonesian that no catalogue translates."""
    misses: set[str] = set()
    gettext, ngettext = DjangoTranslation.gettext, DjangoTranslation.ngettext

    def recording_gettext(self: DjangoTranslation, message: str) -> str:
        if _WORD.search(message) and _missing(self, message) and _missing(self, (message, 0)):
            misses.add(message.replace("\x04", " | "))  # pgettext: "context\x04message"
        return gettext(self, message)

    def recording_ngettext(self: DjangoTranslation, singular: str, plural: str, number: int) -> str:
        if _WORD.search(singular) and _missing(self, (singular, 0)):
            misses.add(singular)
        return ngettext(self, singular, plural, number)

    DjangoTranslation.gettext = recording_gettext  # type: ignore[method-assign]
    DjangoTranslation.ngettext = recording_ngettext  # type: ignore[method-assign]
    try:
        yield misses
    finally:
        DjangoTranslation.gettext = gettext  # type: ignore[method-assign]
        DjangoTranslation.ngettext = ngettext  # type: ignore[method-assign]


def untranslatable_names() -> list[str]:
    """`app.Model.field: name` for each verbose name of our models that Indonesian cannot translate."""
    found: list[str] = []
    with override("id"), untranslated_msgids() as misses:
        for model in apps.get_models():
            meta = model._meta
            if meta.app_label not in OUR_APPS:
                continue
            if "verbose_name_plural" not in meta.original_attrs:  # the default adds an English "s"
                found.append(f"{meta.label}.(plural): {meta.verbose_name_plural}")
            names = [("", meta.verbose_name)]
            names += [
                (field.name, field.verbose_name)
                for field in meta.get_fields()
                if hasattr(field, "verbose_name") and not field.auto_created
            ]
            for where, name in names:
                before = len(misses)
                text = str(name)  # resolves a lazy name, which records a miss
                if not isinstance(name, Promise) or len(misses) > before:
                    found.append(f"{meta.label}.{where}: {text}")
    return found
