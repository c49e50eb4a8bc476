"""Rupiah and counts in the admin: one base class every ModelAdmin with money uses (accounts, providers, orders,
the sandbox), so "Rp 68.350" is written by accounts.money.format_rupiah and nowhere else.

Django shows a DecimalField as `68350,0000` on lists and read-only pages and offers no hook for it, so a money
field named in `rupiah_fields` is swapped for a display column (`amount` -> `amount_rp`, `service__cost` ->
`service_cost_rp`) wherever it is shown rather than edited: in list_display, among the read-only fields, and on
view-only pages. Where it stays editable its input accepts the Indonesian way of writing it ("68.350",
"Rp 1.234,50"; accounts.money.to_money). `count_fields` do the same for counts (`<field>_n`: 6.938 in
Indonesian, 6,938 in English).

Lives in accounts, not common: common imports no app, and format_rupiah is accounts'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .money import InvalidAmount, format_count, format_rupiah, to_money

RUPIAH_SUFFIX, COUNT_SUFFIX = "_rp", "_n"


def _field(model: type[models.Model], path: str) -> models.Field:
    """The model field at the end of `path` ("amount", "service__cost")."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _value(obj: models.Model, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def admin_column(
    model: type[models.Model], path: str, fmt: Callable[[Any], str], description: Any = None
) -> Callable[[models.Model], str]:
    """A list/read-only column showing `path` of an object through `fmt`, titled and sorted as the field."""

    def column(*args: Any) -> str:  # (obj), or (model_admin, obj) when set as a class attribute
        return fmt(_value(args[-1], path))

    column.__name__ = path
    return admin.display(description=description or _field(model, path).verbose_name, ordering=path)(column)


def rupiah_column(model: type[models.Model], path: str, description: Any = None) -> Callable[[models.Model], str]:
    return admin_column(model, path, format_rupiah, description)


def count_column(model: type[models.Model], path: str, description: Any = None) -> Callable[[models.Model], str]:
    return admin_column(model, path, format_count, description)


class RupiahFormField(forms.DecimalField):
    """A money input that reads 68350, 68.350, "Rp 68.350" and 1.234,50 (accounts.money.to_money)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "class": "vTextField rupiah-input"})
    default_error_messages = {"invalid": _("Enter an amount in Rupiah, e.g. 68.350 or 1.234,50.")}

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        try:
            return to_money(value)
        except InvalidAmount:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):  # the stored 68350.0000 shown as the operator would type it: 68.350
            return format_rupiah(value).replace("Rp ", "")
        return value


class MoneyAdmin(admin.ModelAdmin):
    """A ModelAdmin whose `rupiah_fields` and `count_fields` read as Rupiah and counts."""

    rupiah_fields: Sequence[str] = ()
    count_fields: Sequence[str] = ()

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self._shown: dict[str, str] = {}  # field path -> its display column
        for fields, suffix, make in (
            (self.rupiah_fields, RUPIAH_SUFFIX, rupiah_column),
            (self.count_fields, COUNT_SUFFIX, count_column),
        ):
            for path in fields:
                name = path.replace("__", "_") + suffix  # a "__" name would be read as a lookup
                if not hasattr(self, name):
                    setattr(self, name, make(model, path))
                self._shown[path] = name

    def as_columns(self, names: Sequence[Any], swap: Callable[[str], bool] | None = None) -> list[Any]:
        """`names` with each money/count field replaced by its display column (all, or those `swap` picks)."""
        result: list[Any] = []
        for name in names:
            if isinstance(name, str) and name in self._shown and (swap is None or swap(name)):
                name = self._shown[name]
            if name not in result:
                result.append(name)
        return result

    def _read_only(self, request: HttpRequest, obj: models.Model | None) -> Callable[[str], bool]:
        """Which money fields this page shows rather than edits."""
        if obj is not None and not self.has_change_permission(request, obj):
            return lambda name: True  # a view-only page
        readonly = set(self.get_readonly_fields(request, obj))
        return lambda name: self._shown[name] in readonly

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return self.as_columns(super().get_list_display(request))

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[Any]:
        return self.as_columns(super().get_readonly_fields(request, obj))

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[Any]:
        fields, swap = super().get_fields(request, obj), self._read_only(request, obj)
        # Django lists a read-only money field twice (as a form field, then as its column): keep the column's place.
        listed = set(fields)
        fields = [f for f in fields if not (f in self._shown and swap(f) and self._shown[f] in listed)]
        return self.as_columns(fields, swap)

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> list[Any]:
        swap = self._read_only(request, obj)
        return [
            (
                title,
                {
                    **options,
                    "fields": [
                        self.as_columns(f, swap) if isinstance(f, list | tuple) else self.as_columns([f], swap)[0]
                        for f in options["fields"]
                    ],
                },
            )
            for title, options in super().get_fieldsets(request, obj)
        ]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.rupiah_fields:
            kwargs["form_class"] = RupiahFormField
        return super().formfield_for_dbfield(db_field, request, **kwargs)
