"""Dashboard and the small site-wide views. Business logic lives in the apps' services/selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.selectors import balance_of, ledger_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "panel/dashboard.html",
        {"balance": balance_of(request.user), "entries": ledger_for(request.user)[:10]},
    )


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
