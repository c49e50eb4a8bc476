"""Reads for accounts: balances, ledger pages, the operators' page of reseller balances and the invariant
check behind `ledger_check`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils.translation import gettext, gettext_noop, override

from .models import DepositMethod, DepositRequest, LedgerEntry, LedgerKind, User, Wallet
from .money import ZERO

INITIAL_DEPOSIT = gettext_noop("Initial deposit")  # accounts.services.reseller_create writes it

_ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))
_SUM = DecimalField(max_digits=20, decimal_places=2)


def ledger_for(user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(wallet__user=user).order_by("-id")


def balance_of(user: User) -> Decimal:
    return Wallet.objects.filter(user=user).values_list("balance", flat=True).first() or Decimal("0.00")


@dataclass(frozen=True)
class BalancePage:
    rows: list[tuple]  # (user_id, username, is_active, balance, updated_at)
    number: int
    pages: int
    resellers: int
    total_owed: Decimal
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def reseller_balances(page: int = 1, per_page: int = 100) -> BalancePage:
    """One page of reseller (non-staff) balances, largest first, with the total owed to all resellers.

    One aggregate query gives the total and the count (no separate COUNT over the table), one sliced query
    gives the page."""
    wallets = Wallet.objects.filter(user__is_staff=False)
    totals = wallets.aggregate(total=Sum("balance", output_field=_SUM), n=Count("id"))
    resellers = totals["n"] or 0
    pages = max(1, -(-resellers // per_page))
    number = min(max(1, page), pages)
    offset = (number - 1) * per_page
    rows = list(
        wallets.order_by("-balance", "user_id").values_list(
            "user_id", "user__username", "user__is_active", "balance", "updated_at"
        )[offset : offset + per_page]
    )
    return BalancePage(
        rows=rows,
        number=number,
        pages=pages,
        resellers=resellers,
        total_owed=totals["total"] or ZERO,
        per_page=per_page,
    )


def ledger_violations() -> list[str]:
    """Every broken money invariant, as readable lines (empty when the books are clean).

    Set-based queries only, so it stays usable on millions of entries.
    """
    problems: list[str] = []
    sums = (
        LedgerEntry.objects.filter(wallet=OuterRef("pk"))
        .values("wallet")
        .annotate(total=Round(Sum("amount"), 2))
        .values("total")
    )
    last_after = LedgerEntry.objects.filter(wallet=OuterRef("pk")).order_by("-id").values("balance_after")[:1]
    wallets = Wallet.objects.annotate(
        total=Coalesce(Subquery(sums), _ZERO), last_after=Coalesce(Subquery(last_after), _ZERO)
    ).select_related("user")
    for wallet in wallets.filter(~Q(balance=F("total")) | ~Q(balance=F("last_after")) | Q(balance__lt=0)):
        if wallet.balance < 0:
            problems.append(f"wallet {wallet.pk} ({wallet.user}): negative balance {wallet.balance}")
        if wallet.balance != wallet.total:
            problems.append(
                f"wallet {wallet.pk} ({wallet.user}): balance {wallet.balance} != sum of entries {wallet.total}"
            )
        if wallet.balance != wallet.last_after:
            problems.append(
                f"wallet {wallet.pk} ({wallet.user}): balance {wallet.balance} != last balance_after "
                f"{wallet.last_after}"
            )
    for row in LedgerEntry.objects.filter(balance_after__lt=0).values("pk", "wallet_id")[:100]:
        problems.append(f"entry {row['pk']} (wallet {row['wallet_id']}): negative balance_after")

    per_order = (
        LedgerEntry.objects.filter(order_id__isnull=False, kind__in=[LedgerKind.CHARGE, LedgerKind.REFUND])
        .values("order_id")
        .annotate(
            charges=Count("pk", filter=Q(kind=LedgerKind.CHARGE)),
            refunds=Count("pk", filter=Q(kind=LedgerKind.REFUND)),
            charged=Coalesce(Round(Sum("amount", filter=Q(kind=LedgerKind.CHARGE)), 2), _ZERO),
            refunded=Coalesce(Round(Sum("amount", filter=Q(kind=LedgerKind.REFUND)), 2), _ZERO),
            wallets=Count("wallet_id", distinct=True),
        )
        .filter(
            Q(charges__gt=1)
            | Q(refunds__gt=1)
            | Q(refunds__gt=0, charges=0)
            | Q(refunded__gt=-F("charged"))
            | Q(wallets__gt=1)
        )
    )
    for row in per_order[:1000]:
        order = row["order_id"]
        if row["charges"] > 1:
            problems.append(f"order {order}: charged {row['charges']} times")
        if row["refunds"] > 1:
            problems.append(f"order {order}: refunded {row['refunds']} times")
        if row["refunds"] and not row["charges"]:
            problems.append(f"order {order}: refund without a charge")
        if row["refunded"] > -row["charged"]:
            problems.append(f"order {order}: refunds {row['refunded']} exceed charge {-row['charged']}")
        if row["wallets"] > 1:
            problems.append(f"order {order}: entries in {row['wallets']} different wallets")
    return problems


# --- what a reseller reads for a ledger entry -------------------------------------------------------
def deposit_refs(user: User) -> dict[int, tuple[int, str]]:
    """ledger entry id -> (deposit request id, method) of the reseller's approved deposit requests."""
    rows = DepositRequest.objects.filter(user=user, ledger_entry__isnull=False)
    return {entry: (pk, method) for entry, pk, method in rows.values_list("ledger_entry_id", "pk", "method")}


def _initial_deposit_texts() -> set[str]:
    texts = {INITIAL_DEPOSIT}
    for code, _name in settings.LANGUAGES:
        with override(code):
            texts.add(gettext(INITIAL_DEPOSIT))
    return texts


def ledger_reason(
    kind: str, order_id: int | None, reason: str, entry_id: int, deposits: dict[int, tuple[int, str]]
) -> str:
    """An entry's description in the reader's language. The stored reason was written in the language of
    whoever caused the entry (the worker, an operator, the reseller on another day); the entries the
    panel writes itself are labelled again by kind. An operator's own words (adjustments) stay as written."""
    if kind == LedgerKind.CHARGE and order_id is not None:
        return gettext("Order #%(id)s") % {"id": order_id}
    if kind == LedgerKind.REFUND and order_id is not None:
        return gettext("Refund for order #%(id)s") % {"id": order_id}
    if kind == LedgerKind.DEPOSIT:
        if entry_id in deposits:
            pk, method = deposits[entry_id]
            label = DepositMethod(method).label if method in DepositMethod.values else method
            return gettext("Deposit #%(id)s (%(method)s)") % {"id": pk, "method": label}
        if reason in _initial_deposit_texts():
            return gettext(INITIAL_DEPOSIT)
    return reason
