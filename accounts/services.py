"""Writes for accounts. These functions are the only code that changes a wallet balance.

Each balance change is one guarded UPDATE (`balance >= amount` for debits) plus one ledger entry in the
same transaction. The database constraints are the last line: a negative balance, a second charge or a
second refund for one order cannot be committed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiKey, DepositMethod, DepositRequest, DepositStatus, LedgerEntry, LedgerKind, Tier, User, Wallet
from .money import ZERO, format_rupiah, to_money


class LedgerError(Exception):
    """A balance change that the rules refuse; the message is fit to show a user."""


class InsufficientBalance(LedgerError):
    pass


def wallet_get(user: User) -> Wallet:
    wallet, _created = Wallet.objects.get_or_create(user=user)
    return wallet


def _positive(amount: Decimal | int | str) -> Decimal:
    value = to_money(amount)
    if value <= ZERO:
        raise LedgerError(_("The amount must be more than zero."))
    return value


def _existing(idempotency_key: str | None) -> LedgerEntry | None:
    if not idempotency_key:
        return None
    return LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()


def _apply(
    wallet: Wallet,
    delta: Decimal,
    *,
    kind: str,
    reason: str,
    order_id: int | None,
    actor: User | None,
    idempotency_key: str | None,
) -> LedgerEntry:
    """Move `delta` (signed) through the wallet and record it. Runs in a savepoint so a unique
    violation (a duplicate charge/refund/idempotency key) rolls back the balance change too."""
    with transaction.atomic():
        wallets = Wallet.objects.filter(pk=wallet.pk)
        # ROUND keeps SQLite (which stores decimals as REAL) exact to the cent; a no-op on PostgreSQL numeric.
        new_balance = Round(F("balance") + delta, 2)
        if delta < 0:
            changed = wallets.filter(balance__gte=-delta).update(balance=new_balance, updated_at=timezone.now())
            if not changed:
                current = wallets.values_list("balance", flat=True).first() or ZERO
                raise InsufficientBalance(
                    _("Insufficient balance: %(need)s needed, %(have)s available.")
                    % {"need": format_rupiah(-delta), "have": format_rupiah(current)}
                )
        else:
            wallets.update(balance=new_balance, updated_at=timezone.now())
        # We hold the row lock from the UPDATE, so this read is the balance our entry leaves.
        balance_after = wallets.values_list("balance", flat=True).get()
        return LedgerEntry.objects.create(
            wallet=wallet,
            kind=kind,
            amount=delta,
            balance_after=balance_after,
            order_id=order_id,
            reason=reason[:255],
            actor=actor,
            idempotency_key=idempotency_key or None,
        )


def wallet_credit(
    *,
    user: User,
    amount: Decimal | int | str,
    reason: str,
    kind: str = LedgerKind.DEPOSIT,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Add money (a deposit or a positive adjustment). With an idempotency key, a retry returns the
    entry already written instead of paying twice."""
    if kind not in (LedgerKind.DEPOSIT, LedgerKind.ADJUSTMENT):
        raise LedgerError(f"wallet_credit cannot write a {kind} entry")
    value = _positive(amount)
    if existing := _existing(idempotency_key):
        return existing
    try:
        return _apply(
            wallet_get(user),
            value,
            kind=kind,
            reason=reason,
            order_id=None,
            actor=actor,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        if existing := _existing(idempotency_key):
            return existing
        raise


def wallet_debit(
    *,
    user: User,
    amount: Decimal | int | str,
    reason: str,
    kind: str = LedgerKind.CHARGE,
    order_id: int | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Take money out: an order's charge (kind charge, order_id required, once per order) or a negative
    adjustment. Raises InsufficientBalance and changes nothing when the balance does not cover it."""
    if kind not in (LedgerKind.CHARGE, LedgerKind.ADJUSTMENT):
        raise LedgerError(f"wallet_debit cannot write a {kind} entry")
    if kind == LedgerKind.CHARGE and order_id is None:
        raise LedgerError("a charge needs an order")
    value = _positive(amount)
    if existing := _existing(idempotency_key):
        return existing
    try:
        return _apply(
            wallet_get(user),
            -value,
            kind=kind,
            reason=reason,
            order_id=order_id,
            actor=actor,
            idempotency_key=idempotency_key,
        )
    except IntegrityError as exc:
        if existing := _existing(idempotency_key):
            return existing
        if kind == LedgerKind.CHARGE:
            raise LedgerError(_("Order %(id)s has already been charged.") % {"id": order_id}) from exc
        raise


def wallet_refund(
    *, order_id: int, amount: Decimal | int | str, reason: str, actor: User | None = None
) -> LedgerEntry | None:
    """Refund (part of) an order's charge to the wallet that paid it. Exactly once per order: a second
    call, concurrent or later, returns the refund already written. Never more than the charge."""
    value = _positive(amount)
    charge = LedgerEntry.objects.filter(order_id=order_id, kind=LedgerKind.CHARGE).select_related("wallet").first()
    if charge is None:
        raise LedgerError(f"order {order_id} has no charge to refund")
    if value > -charge.amount:
        raise LedgerError(f"refund {value} for order {order_id} exceeds its charge {-charge.amount}")
    if existing := LedgerEntry.objects.filter(order_id=order_id, kind=LedgerKind.REFUND).first():
        return existing
    try:
        return _apply(
            charge.wallet,
            value,
            kind=LedgerKind.REFUND,
            reason=reason,
            order_id=order_id,
            actor=actor,
            idempotency_key=None,
        )
    except IntegrityError:
        existing = LedgerEntry.objects.filter(order_id=order_id, kind=LedgerKind.REFUND).first()
        if existing is None:
            raise
        return existing


def wallet_adjust(*, user: User, amount: Decimal | int | str, reason: str, actor: User | None) -> LedgerEntry:
    """An operator's correction, signed. A reason is required; it cannot take the balance below zero."""
    if not reason.strip():
        raise LedgerError(_("A reason is required for an adjustment."))
    value = to_money(amount)
    if value == ZERO:
        raise LedgerError(_("The amount must not be zero."))
    if value > 0:
        return wallet_credit(user=user, amount=value, reason=reason, kind=LedgerKind.ADJUSTMENT, actor=actor)
    return wallet_debit(user=user, amount=-value, reason=reason, kind=LedgerKind.ADJUSTMENT, actor=actor)


# --- resellers ------------------------------------------------------------------------------------
def reseller_create(
    *,
    username: str,
    password: str,
    tier: Tier | None = None,
    email: str = "",
    deposit: Decimal | None = None,
    actor: User | None = None,
) -> User:
    with transaction.atomic():
        user = User(username=username, email=email, tier=tier or Tier.objects.filter(is_default=True).first())
        user.set_password(password)
        user.save()
        Wallet.objects.create(user=user)
        if deposit:
            wallet_credit(user=user, amount=deposit, reason=_("Initial deposit"), actor=actor)
    return user


# --- API keys -------------------------------------------------------------------------------------
def _hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def apikey_rotate(user: User) -> str:
    """Issue a new key (replacing any old one) and return it. Only its hash is stored."""
    plain = secrets.token_hex(24)
    ApiKey.objects.update_or_create(user=user, defaults={"prefix": plain[:8], "key_hash": _hash_key(plain)})
    return plain


def apikey_revoke(user: User) -> None:
    ApiKey.objects.filter(user=user).delete()


def apikey_authenticate(plain: str | None) -> User | None:
    """The active reseller owning this key, or None. The hash comparison is constant-time."""
    if not plain or len(plain) < 16 or len(plain) > 128:
        return None
    candidate = _hash_key(plain.strip())
    for key in ApiKey.objects.filter(prefix=plain.strip()[:8]).select_related("user"):
        if hmac.compare_digest(key.key_hash, candidate) and key.user.is_active:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
            return key.user
    return None


# --- deposit requests -----------------------------------------------------------------------------
MIN_DEPOSIT = Decimal("10000")
MAX_DEPOSIT = Decimal("100000000")


def deposit_request_create(*, user: User, amount: Decimal | int | str, method: str, note: str = "") -> DepositRequest:
    value = to_money(amount)
    if not MIN_DEPOSIT <= value <= MAX_DEPOSIT:
        raise LedgerError(
            _("A deposit must be between %(min)s and %(max)s.")
            % {"min": format_rupiah(MIN_DEPOSIT), "max": format_rupiah(MAX_DEPOSIT)}
        )
    if method not in DepositMethod.values:
        raise LedgerError(_("Choose a payment method."))
    return DepositRequest.objects.create(user=user, amount=value, method=method, note=note.strip()[:300])


class _AlreadyDecided(Exception):
    pass


def deposit_approve(deposit: DepositRequest, *, actor: User) -> bool:
    """Credit the wallet and mark the request approved, once: a second click (or a concurrent one)
    finds the request no longer pending and changes nothing. Returns whether this call approved it.

    The credit comes first and the status flips with its ledger entry in one guarded UPDATE (the database
    requires an approved request to name its entry); losing that race rolls the credit back."""
    try:
        with transaction.atomic():
            if not DepositRequest.objects.filter(pk=deposit.pk, status=DepositStatus.PENDING).exists():
                return False
            entry = wallet_credit(
                user=deposit.user,
                amount=deposit.amount,
                reason=_("Deposit #%(id)s (%(method)s)") % {"id": deposit.pk, "method": deposit.get_method_display()},
                actor=actor,
                idempotency_key=f"deposit:{deposit.pk}",
            )
            claimed = DepositRequest.objects.filter(pk=deposit.pk, status=DepositStatus.PENDING).update(
                status=DepositStatus.APPROVED, decided_at=timezone.now(), decided_by=actor, ledger_entry=entry
            )
            if not claimed:
                raise _AlreadyDecided
    except _AlreadyDecided:
        return False
    deposit.refresh_from_db()
    return True


def deposit_reject(deposit: DepositRequest, *, actor: User, note: str = "") -> bool:
    changed = DepositRequest.objects.filter(pk=deposit.pk, status=DepositStatus.PENDING).update(
        status=DepositStatus.REJECTED, decided_at=timezone.now(), decided_by=actor, decision_note=note[:300]
    )
    deposit.refresh_from_db()
    return bool(changed)
