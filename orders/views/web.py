"""The reseller's order pages: catalogue, one order form per kind (live price, confirmation, payment),
the orders list and an order's page with its live status and actions.

Thin views: validation and prices come from orders.quotes, money and upstream calls from
orders.services, reads from orders.selectors. Every order is looked up with user=request.user, so
another reseller's order id is a 404 on every URL."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.money import format_count, format_rupiah
from accounts.selectors import balance_of
from common.views import cursor, month_range, optional_url, reseller_required
from orders.catalogue_labels import grouped
from orders.forms import OPERATOR_LABELS, ORDER_FORMS, OrderFilterForm, OrderForm
from orders.labels import DELIVERY_LABELS, delivery_note, event_label, order_notice
from orders.models import EventCode, Order, OrderKind, OrderStatus
from orders.placement import order_place
from orders.quotes import OrderInvalid, Quote, in_cutoff, order_quote, user_tier
from orders.refresh import orders_refresh
from orders.selectors import (
    OrderFilters,
    catalogue_categories,
    catalogue_items,
    catalogue_prices,
    clean_text,
    order_events,
    order_page,
    order_recipients,
    parse_id,
    sms_catalogue,
    with_product_names,
)
from orders.services import OrderActionError, allowed_actions, order_action
from orders.sms import count_segments, parse_recipients
from providers.adapters.types import ProductKind
from providers.models import Service
from providers.pricing import price_for

logger = logging.getLogger(__name__)

CATALOGUE_PAGE_SIZE = 50
POLL_SECONDS = 3
TOKENS_KEY = "order_tokens"  # session: confirmation tokens not used yet
PLACED_KEY = "order_tokens_placed"  # session: token -> order id, to answer a repeated "Pay" click
MAX_TOKENS = 20
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ACTION_LABELS = {
    "cancel": gettext_lazy("Cancel order"),
    "resend": gettext_lazy("Resend SMS"),
    "done": gettext_lazy("Mark done"),
    "refill": gettext_lazy("Refill"),
}
KIND_ORDER = [ProductKind.OTP, ProductKind.SMM, ProductKind.PREPAID, ProductKind.SMS]
KINDS = [k.value for k in ProductKind]


def _kind_or_404(kind: str) -> ProductKind:
    try:
        return ProductKind(kind)
    except ValueError:
        raise Http404 from None


def _own_order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(Order.objects.select_related("service", "provider"), pk=pk, user=request.user)


# --- catalogue ------------------------------------------------------------------------------------
@reseller_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in KINDS else ""
    category = clean_text(request.GET.get("category"), 150)
    q = clean_text(request.GET.get("q"), 100)
    sms_items = []
    page = None
    if kind != ProductKind.SMS:
        prices = catalogue_prices(request.user, kind=kind, category=category, q=q)
        paginator = Paginator(prices, CATALOGUE_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        page.groups = grouped(catalogue_items(list(page.object_list)))
    if kind in ("", ProductKind.SMS) and not category and not (page and page.number > 1):
        sms_items = [i for i in sms_catalogue(request.user) if not q or q.lower() in i.name.lower()]
    return render(
        request,
        "orders/catalogue.html",
        {
            "kinds": [(k.value, OrderKind(k.value).label) for k in KIND_ORDER],
            "kind": kind,
            "category": category,
            "categories": catalogue_categories(request.user, kind) if kind != ProductKind.SMS else [],
            "q": q,
            "page": page,
            "sms_items": sms_items,
            "query": _query(request, exclude=("page",)),
        },
    )


def _query(request: HttpRequest, exclude: tuple[str, ...]) -> str:
    params = request.GET.copy()
    for name in exclude:
        params.pop(name, None)
    return params.urlencode()


# --- placing an order -----------------------------------------------------------------------------
@reseller_required
@require_GET
def order_start(request: HttpRequest) -> HttpResponse:
    return render(
        request, "orders/order_start.html", {"kinds": [(k.value, OrderKind(k.value).label) for k in KIND_ORDER]}
    )


def _form_context(request: HttpRequest, kind: ProductKind, form: OrderForm, **extra: Any) -> dict[str, Any]:
    categories = catalogue_categories(request.user, kind) if kind != ProductKind.SMS else []
    service = _selected_service(form)
    return {
        "kind": kind.value,
        "kind_label": OrderKind(kind.value).label,
        "kinds": [(k.value, OrderKind(k.value).label) for k in KIND_ORDER],
        "form": form,
        "categories": categories,
        "category": form.category,
        "balance": balance_of(request.user),
        "service_info": _service_info(service, request.user) if service else "",
        **extra,
    }


def _selected_service(form: OrderForm) -> Service | None:
    if "service" not in form.fields:
        return None
    raw = form.data.get("service") if form.is_bound else form.initial.get("service")
    service_id = parse_id(str(raw or ""))
    if service_id is None:
        return None
    return Service.objects.select_related("provider").filter(pk=service_id, kind=form.kind).first()


def _service_info(service: Service, user: User) -> str:
    """One line about the chosen product: unit price, min/max, stock, cutoff."""
    parts = []
    price = price_for(service, user_tier(user))
    if price is not None and price.on_sale:
        unit = format_rupiah(price.price)
        if service.kind == ProductKind.SMM:
            unit = _("%(price)s per 1000") % {"price": unit}
        elif service.kind == ProductKind.SMS:
            unit = _("%(price)s per SMS") % {"price": unit}
        parts.append(unit)
    else:
        parts.append(_("Not for sale right now"))
    if service.kind == ProductKind.SMM:
        parts.append(
            _("min %(min)s, max %(max)s") % {"min": format_count(service.min_qty), "max": format_count(service.max_qty)}
        )
    if service.kind == ProductKind.OTP and service.stock is not None:
        parts.append(_("stock %(n)s") % {"n": format_count(service.stock)})
    if not service.in_stock:
        parts.append(_("out of stock"))
    if service.cutoff_start and service.cutoff_end and service.cutoff_start != service.cutoff_end:
        window = f"{service.cutoff_start:%H:%M}-{service.cutoff_end:%H:%M} WIB"
        if in_cutoff(service, timezone.now()):
            parts.append(_("closed now (%(window)s)") % {"window": window})
        else:
            parts.append(_("closed daily %(window)s") % {"window": window})
    return " · ".join(parts)


def _new_token(request: HttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    tokens = [*request.session.get(TOKENS_KEY, []), token][-MAX_TOKENS:]
    request.session[TOKENS_KEY] = tokens
    return token


def _initial_from_get(request: HttpRequest, kind: ProductKind) -> dict[str, str]:
    initial = {}
    for name in ("service", "sms_type", "quantity", "link", "target"):
        value = clean_text(request.GET.get(name), 500)
        if value:
            initial[name] = value
    if kind == ProductKind.OTP:
        initial.setdefault("operator", "any")
    service_id = parse_id(initial.get("service"))
    if kind == ProductKind.SMM and service_id and "quantity" not in initial:
        service = Service.objects.filter(pk=service_id, kind=kind).first()
        if service is not None:
            initial["quantity"] = str(service.min_qty)
    return initial


@never_cache
@reseller_required
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: the form. POST: check it; errors beside their fields, or the confirmation with the charge."""
    product_kind = _kind_or_404(kind)
    form_class = ORDER_FORMS[product_kind]
    if request.method == "GET":
        category = request.GET.get("category", "")
        form = form_class(user=request.user, category=category, initial=_initial_from_get(request, product_kind))
        return render(request, "orders/order_form.html", _form_context(request, product_kind, form))

    category = request.POST.get("category", "")
    if request.POST.get("edit"):  # "Change" on the confirmation page: the form again, filled in
        initial = {name: request.POST.get(name, "") for name in form_class.base_fields}
        form = form_class(user=request.user, category=category, initial=initial)
        return render(request, "orders/order_form.html", _form_context(request, product_kind, form))
    form = form_class(request.POST, user=request.user, category=category)
    if form.is_valid():
        try:
            quote = order_quote(request.user, **form.order_args())
        except OrderInvalid as exc:
            form.apply_errors(exc.errors)
        else:
            return _confirm(request, product_kind, form, quote)
    return render(request, "orders/order_form.html", _form_context(request, product_kind, form))


def _confirm(request: HttpRequest, kind: ProductKind, form: OrderForm, quote: Quote) -> HttpResponse:
    balance = balance_of(request.user)
    lines = form.summary()
    if kind == ProductKind.SMS:
        lines += [
            (_("Recipients"), format_count(len(quote.recipients))),
            (_("SMS per recipient"), f"{quote.segments} ({quote.encoding})"),
        ]
    return render(
        request,
        "orders/order_confirm.html",
        {
            "kind": kind.value,
            "kind_label": OrderKind(kind.value).label,
            "form": form,
            "quote": quote,
            "lines": lines,
            "token": _new_token(request),
            "balance": balance,
            "balance_after": balance - quote.charge,
            "enough": balance >= quote.charge,
            "message_preview": quote.message if kind == ProductKind.SMS else "",
            "recipients_preview": quote.recipients[:20],
        },
    )


@reseller_required
@require_POST
def order_place_view(request: HttpRequest, kind: str) -> HttpResponse:
    """ "Pay" on the confirmation page. One confirmation places at most one order: its token is spent
    (a repeated click finds the order it placed); the request is checked again before any money moves."""
    product_kind = _kind_or_404(kind)
    form = ORDER_FORMS[product_kind](request.POST, user=request.user, category=request.POST.get("category", ""))
    token = request.POST.get("token", "")
    token = token if TOKEN.match(token) else ""
    placed = request.session.get(PLACED_KEY, {})
    if token and token in placed:
        return _already_placed(request, placed[token])
    tokens = request.session.get(TOKENS_KEY, [])
    valid = form.is_valid()
    if not token or token not in tokens:
        form.add_error(None, _("This confirmation has expired. Check the order and confirm it again."))
        return render(request, "orders/order_form.html", _form_context(request, product_kind, form))
    if not valid:
        return render(request, "orders/order_form.html", _form_context(request, product_kind, form))
    claim = f"web-order-token:{request.user.pk}:{token}"
    if not cache.add(claim, 0, timeout=600):  # the same confirmation submitted twice at once
        order_id = cache.get(claim)
        return _already_placed(request, order_id) if order_id else redirect("order_list")
    request.session[TOKENS_KEY] = [t for t in tokens if t != token]
    try:
        order = order_place(request.user, source="web", **form.order_args())
    except OrderInvalid as exc:
        cache.delete(claim)
        form.apply_errors(exc.errors)
        return render(request, "orders/order_form.html", _form_context(request, product_kind, form))
    cache.set(claim, order.pk, timeout=600)
    request.session[PLACED_KEY] = dict(list({**placed, token: order.pk}.items())[-MAX_TOKENS:])
    if order.status == OrderStatus.FAILED:
        messages.warning(request, order_notice(order) or _("The order failed. Your balance has been refunded."))
    elif order.status == OrderStatus.UNKNOWN:
        pass  # no green "charged" banner: the order page's one warning says it is being checked
    elif order.status == OrderStatus.SUBMITTING:
        messages.success(
            request,
            _("Order #%(id)s accepted; %(charge)s charged. It is being sent to the provider.")
            % {"id": order.pk, "charge": format_rupiah(order.charge)},
        )
    else:
        messages.success(
            request,
            _("Order #%(id)s placed; %(charge)s charged.") % {"id": order.pk, "charge": format_rupiah(order.charge)},
        )
    return redirect("order_detail", pk=order.pk)


def _already_placed(request: HttpRequest, order_id: int) -> HttpResponse:
    messages.info(request, _("This order was already placed; it is not charged twice."))
    if Order.objects.filter(pk=order_id, user=request.user).exists():
        return redirect("order_detail", pk=order_id)
    return redirect("order_list")


# --- live price -----------------------------------------------------------------------------------
# Stand-ins for fields that do not change the price, so a charge can be shown before they are filled in.
STAND_INS = {"link": "https://example.com/p", "target": "081200000000", "operator": "any", "schedule_at": None}
NONE_OK = {"service", "schedule_at", "quantity"}


@never_cache
@reseller_required
@require_http_methods(["GET", "POST"])
def order_price(request: HttpRequest) -> JsonResponse:
    """The price of what the form holds so far, with the errors of the fields already filled in.
    Called by static/js/order-form.js as the reseller types: POST with the form's CSRF token (a list of
    1,000 recipients does not fit in a URL); GET works too for short requests."""
    data = request.POST if request.method == "POST" else request.GET
    kind = data.get("kind", "")
    if kind not in KINDS:
        return JsonResponse({"ok": False, "errors": {"kind": _("Unknown product kind.")}, "charge": ""}, status=400)
    product_kind = ProductKind(kind)
    form = ORDER_FORMS[product_kind](data, user=request.user)
    form.is_valid()
    filled = {name for name in form.fields if str(data.get(name, "")).strip()}
    errors: dict[str, str] = {name: str(errs[0]) for name, errs in form.errors.items() if name in filled}
    cleaned = {name: form.cleaned_data.get(name) for name in form.fields}
    real = {name: ("" if value is None and name not in NONE_OK else value) for name, value in cleaned.items()}
    quote: Quote | None = None
    valid = False
    try:
        quote = order_quote(request.user, kind=kind, **real)
        valid = form.is_valid()
    except OrderInvalid as exc:
        for name, message in exc.errors.items():
            if name in filled or (name == "__all__" and not errors):
                errors.setdefault(name, message)
        wrong = set(exc.errors) | set(form.errors) | {n for n, v in cleaned.items() if v is None}
        stand_in = {n: (STAND_INS[n] if n in wrong and n in STAND_INS else v) for n, v in real.items()}
        try:
            quote = order_quote(request.user, kind=kind, **stand_in)
        except OrderInvalid:
            quote = None
    body: dict[str, Any] = {
        "ok": valid and not errors,
        "errors": errors,
        "charge": format_rupiah(quote.charge) if quote is not None else "",
    }
    if product_kind == ProductKind.SMS:
        message = str(data.get("message", ""))[:2000].replace("\r\n", "\n")
        segments = count_segments(message)
        recipients = parse_recipients(str(data.get("recipients", ""))[:30_000])
        body.update(
            segments=segments.count,
            encoding=segments.encoding,
            length=segments.length,
            recipients=len(recipients.valid),
            invalid=len(recipients.invalid),
        )
    service = _selected_service(form)
    body["info"] = _service_info(service, request.user) if service else ""
    return JsonResponse(body)


# --- orders list ----------------------------------------------------------------------------------
@reseller_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    get = request.GET
    kinds = [(k.value, OrderKind(k.value).label) for k in KIND_ORDER]
    form = OrderFilterForm(get, kinds=kinds, statuses=OrderStatus.choices)
    form.is_valid()
    filters = OrderFilters(
        kind=form.value("kind") or "",
        status=form.value("status") or "",
        start=form.value("start"),
        end=form.value("end"),
        q=form.value("q") or "",
    )
    page = order_page(request.user, filters, before=cursor(get.get("before")), after=cursor(get.get("after")))
    base_query = _query(request, exclude=("before", "after"))
    start, end = month_range()
    csv_start = filters.start.isoformat() if filters.start else start
    csv_end = filters.end.isoformat() if filters.end else end
    return render(
        request,
        "orders/order_list.html",
        {
            "page": page,
            "filters": filters,
            "filter_form": form,
            "kinds": kinds,
            "statuses": OrderStatus.choices,
            "base_query": base_query,
            "csv_url": optional_url("orders_csv", start=csv_start, end=csv_end),
            "csv_start": csv_start,
            "csv_end": csv_end,
        },
    )


# --- one order ------------------------------------------------------------------------------------
def _live_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    with_product_names([order])
    try:
        actions = allowed_actions(order)
    except Exception:  # a provider that cannot be built (e.g. removed credentials) offers no actions
        logger.exception("allowed_actions failed for order %s", order.pk)
        actions = []
    statuses = dict(OrderStatus.choices)
    events = order_events(order)
    for event in events:
        event.label = event_label(event, order)
        event.from_label = statuses.get(event.from_status, event.from_status)
        event.to_label = statuses.get(event.to_status, event.to_status)
    recipients = order_recipients(order)
    for recipient in recipients.shown:
        recipient.state_label = DELIVERY_LABELS.get(recipient.state, recipient.state)
        recipient.note = delivery_note(recipient, order.provider.kind)
    delivered = None
    if order.kind == ProductKind.SMM and order.remains is not None:
        delivered = max(order.quantity - order.remains, 0)
    return {
        "order": order,
        "actions": [(a, ACTION_LABELS[a]) for a in actions if a in ACTION_LABELS],
        "events": events,
        "recipients": recipients,
        "recipient_states": [(st, DELIVERY_LABELS.get(st, st), n) for st, n in recipients.by_state.items()],
        "notice": order_notice(order),
        "delivered": delivered,
        "poll_seconds": POLL_SECONDS,
    }


@reseller_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _own_order(request, pk)
    context = _live_context(request, order)
    context["operator_label"] = OPERATOR_LABELS.get(order.operator or "any", order.operator)
    return render(request, "orders/order_detail.html", context)


@never_cache
@reseller_required
@require_GET
def order_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The live part of the order page, polled every few seconds while the order is not final. When the
    order has not moved for a while, the upstream is asked now (at most once per few seconds per order),
    so the page moves on even without a worker."""
    order = _own_order(request, pk)
    try:
        if orders_refresh([order], code=EventCode.REFRESH_PAGE, stale_only=True).checked:
            order = _own_order(request, pk)
    except Exception:  # the page must keep working whatever the upstream does
        logger.exception("refresh of order %s from its page failed", order.pk)
    html = render_to_string("orders/_order_live.html", _live_context(request, order), request=request)
    return JsonResponse({"final": order.is_final, "status": order.status, "html": html})


@reseller_required
@require_POST
def order_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = _own_order(request, pk)
    action = request.POST.get("action", "")
    if action not in ACTION_LABELS:
        messages.error(request, _("This action is not available for this order now."))
        return redirect("order_detail", pk=order.pk)
    try:
        outcome = order_action(request.user, order, action)
    except OrderActionError as exc:
        messages.error(request, str(exc))
    except Order.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, outcome.message)
    return redirect("order_detail", pk=order.pk)
