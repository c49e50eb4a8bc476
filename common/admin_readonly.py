"""Admin screens operators read but never add to, change or delete from (records the system keeps)."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Put first in the bases: `class XAdmin(ReadOnlyAdminMixin, admin.ModelAdmin)`."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
