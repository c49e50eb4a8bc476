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

from django.db import IntegrityError, connection, transaction
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


def _db_money(value: object) -> Decimal:
    # SQLite hands back REAL; its shortest repr is the 2-place amount ROUND produced. PostgreSQL: a Decimal.
    return to_money(Decimal(str(value)) if isinstance(value, float) else value)


def _move(delta: Decimal, *, wallet_id: int | None = None, user_id: int | None = None) -> tuple[int, Decimal] | None:
    """Add `delta` to one wallet (by id, or by its owner) in one guarded statement; a debit the balance does
    not cover matches no row. Returns (wallet id, balance after), or None when no row qualified.

    RETURNING hands back the balance this very change left while the UPDATE holds the row lock (one round
    trip instead of UPDATE + SELECT; PostgreSQL, and SQLite since 3.35)."""
    ops = connection.ops
    column, key = ("id", wallet_id) if wallet_id is not None else ("user_id", user_id)
    table, column = ops.quote_name(Wallet._meta.db_table), ops.quote_name(column)
    # Identifiers come from the model, every value is a parameter.
    sql = f"UPDATE {table} SET balance = ROUND(balance + %s, 2), updated_at = %s WHERE {column} = %s"  # noqa: S608
    params: list[object] = [ops.adapt_decimalfield_value(delta), ops.adapt_datetimefield_value(timezone.now()), key]
    if delta < 0:
        sql += " AND balance >= %s"
        params.append(ops.adapt_decimalfield_value(-delta))
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING id, balance", params)
        row = cursor.fetchone()
    return None if row is None else (row[0], _db_money(row[1]))


def _apply(
    owner: User | Wallet,
    delta: Decimal,
    *,
    kind: str,
    reason: str,
    order_id: int | None,
    actor: User | None,
    idempotency_key: str | None,
    savepoint: bool = True,
) -> LedgerEntry:
    """Move `delta` (signed) through the wallet of `owner` (a user, or the wallet itself) and record it.
    Runs in a savepoint so a unique violation (a duplicate charge/refund/idempotency key) or a refused debit
    rolls back the balance change too and the caller's transaction goes on; `savepoint=False` is for a
    caller whose own transaction any failure here rolls back whole."""
    by = {"wallet_id": owner.pk} if isinstance(owner, Wallet) else {"user_id": owner.pk}
    with transaction.atomic(savepoint=savepoint):
        moved = _move(delta, **by)
        if moved is None and isinstance(owner, User):
            wallet_get(owner)  # a user's first movement: the wallet may not exist yet
            moved = _move(delta, **by)
        if moved is None:
            current = Wallet.objects.filter(**{"pk" if "wallet_id" in by else "user_id": owner.pk}).values_list(
                "balance", flat=True
            )
            raise InsufficientBalance(
                _("Insufficient balance: %(need)s needed, %(have)s available.")
                % {"need": format_rupiah(abs(delta)), "have": format_rupiah(current.first() or ZERO)}
            )
        wallet_id, balance_after = moved
        return LedgerEntry.objects.create(
            wallet_id=wallet_id,
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
            user,
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
    savepoint: bool = True,
) -> LedgerEntry:
    """Take money out: an order's charge (kind charge, order_id required, once per order) or a negative
    adjustment. Raises InsufficientBalance and changes nothing when the balance does not cover it.

    savepoint=False saves two round trips for a caller inside its own transaction that lets any error from
    here roll that transaction back whole (the order placement does); the transaction is unusable after one."""
    if kind not in (LedgerKind.CHARGE, LedgerKind.ADJUSTMENT):
        raise LedgerError(f"wallet_debit cannot write a {kind} entry")
    if kind == LedgerKind.CHARGE and order_id is None:
        raise LedgerError("a charge needs an order")
    value = _positive(amount)
    if existing := _existing(idempotency_key):
        return existing
    try:
        return _apply(
            user,
            -value,
            kind=kind,
            reason=reason,
            order_id=order_id,
            actor=actor,
            idempotency_key=idempotency_key,
            savepoint=savepoint,
        )
    except IntegrityError as exc:
        if not savepoint:
            raise
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
    if not plain or len(plain) < 16 or len(plain) > 128 or not plain.isprintable():
        return None  # (a NUL byte would also be refused by PostgreSQL in the lookup below)
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
