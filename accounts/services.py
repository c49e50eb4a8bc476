"""Writes for accounts. These functions are the only code that changes a wallet balance.

Each balance change is one guarded UPDATE (`balance >= amount` for debits) plus one ledger entry in the
same transaction. The database constraints are the last line: a negative balance, a second charge or a
second refund for one order cannot be committed. ledger_post_many posts many movements at once (history
loaded in bulk) under the same rules, with one balance update per wallet.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiKey, DepositMethod, DepositRequest, DepositStatus, LedgerEntry, LedgerKind, Tier, User, Wallet
from .money import CENT, ZERO, format_rupiah, to_money
from .network import MAX_ALLOWED_ENTRIES, AllowListError, allow_list_parse


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


# --- many movements at once -----------------------------------------------------------------------
class Posting(NamedTuple):
    """One movement for ledger_post_many. `amount` is signed (+ credits the wallet, - debits it) and to the
    cent; `at` is when it happened (the entry's time). A deposit with a `deposit_method` comes with its
    approved DepositRequest, requested at `requested_at` (default: `at`)."""

    wallet_id: int
    kind: str
    amount: Decimal
    at: datetime
    order_id: int | None = None
    reason: str = ""
    deposit_method: str = ""
    requested_at: datetime | None = None


_CHARGE, _REFUND, _DEPOSIT, _ADJUSTMENT = (
    k.value for k in (LedgerKind.CHARGE, LedgerKind.REFUND, LedgerKind.DEPOSIT, LedgerKind.ADJUSTMENT)
)
_LEDGER_COLUMNS = (
    "id",
    "wallet_id",
    "kind",
    "amount",
    "balance_after",
    "order_id",
    "reason",
    "actor_id",
    "idempotency_key",
    "created_at",
)
_DEPOSIT_COLUMNS = (
    "id",
    "user_id",
    "amount",
    "method",
    "note",
    "status",
    "created_at",
    "decided_at",
    "decided_by_id",
    "decision_note",
    "ledger_entry_id",
)


def ledger_post_many(postings: Sequence[Posting], *, actor: User | None = None) -> list[int]:
    """Post many movements at once, all or nothing, in the order given: history loaded in bulk (the demo
    seeder places its orders' charges and refunds and its resellers' deposits with it).

    The rules and the rows are those of one movement at a time (wallet_debit, wallet_refund, wallet_credit,
    deposit_approve): each entry's balance_after is its wallet's running balance and entry ids increase in
    the order given; a debit the running balance does not cover raises InsufficientBalance; a charge or
    refund names its order, a refund goes back to the wallet its order's charge (earlier in `postings` or
    already posted) came from and never exceeds it; the database constraints (one charge and at most one
    refund per order, ...) still apply, a violation raises LedgerError. The wallets are locked while the
    entries are written, and each one's balance is set once at the end (updated_at: its last movement).
    Rows go in with COPY on PostgreSQL. Returns the new entries' ids, in the order of `postings`."""
    if not postings:
        return []
    ops, actor_id = connection.ops, actor.pk if actor else None
    dt = None if connection.vendor == "postgresql" else ops.adapt_datetimefield_value  # psycopg takes datetimes
    methods = set(DepositMethod.values)
    approved = DepositStatus.APPROVED.value
    with transaction.atomic():
        wallets = {
            pk: (user_id, balance)
            for pk, user_id, balance in Wallet.objects.select_for_update()
            .filter(pk__in={p.wallet_id for p in postings})
            .values_list("pk", "user_id", "balance")
        }
        balances = {pk: balance for pk, (_user, balance) in wallets.items()}
        last_at: dict[int, datetime] = {}
        charged: dict[int, tuple[int, Decimal]] = {}  # order id -> (wallet, amount charged) in this lot
        unmatched: list[Posting] = []  # refunds of orders charged before this lot
        entry_ids = _ids_reserve(LedgerEntry, len(postings))
        request_ids = iter(_ids_reserve(DepositRequest, sum(1 for p in postings if p.deposit_method)))
        entries: list[tuple] = []
        requests: list[tuple] = []
        for entry_id, p in zip(entry_ids, postings, strict=True):
            kind, amount, wallet, at = p.kind, p.amount, p.wallet_id, p.at
            if type(amount) is not Decimal or not amount or amount != amount.quantize(CENT):
                raise LedgerError(f"not an amount for the ledger: {amount!r}")
            if p.deposit_method and (kind != _DEPOSIT or p.deposit_method not in methods):
                raise LedgerError(f"not a deposit method: {p.deposit_method!r}")
            if kind == _CHARGE:
                if amount > 0 or p.order_id is None:
                    raise LedgerError("a charge is a debit for an order")
                charged[p.order_id] = (wallet, -amount)
            elif kind == _REFUND:
                if amount < 0 or p.order_id is None:
                    raise LedgerError("a refund is a credit for an order")
                if p.order_id in charged:
                    _refund_check(p, *charged[p.order_id])
                else:
                    unmatched.append(p)
            elif kind == _DEPOSIT:
                if amount < 0:
                    raise LedgerError("a deposit is a credit")
            elif kind != _ADJUSTMENT:
                raise LedgerError(f"ledger_post_many cannot write a {kind} entry")
            if wallet not in balances:
                raise LedgerError(f"no wallet {wallet}")
            balance = balances[wallet] + amount
            if balance < 0:
                raise InsufficientBalance(
                    _("Insufficient balance: %(need)s needed, %(have)s available.")
                    % {"need": format_rupiah(-amount), "have": format_rupiah(balances[wallet])}
                )
            balances[wallet] = balance
            last_at[wallet] = at
            reason, key = p.reason, None
            if p.deposit_method:  # an approved request, as deposit_approve writes it
                request_id = next(request_ids)
                reason, key = _deposit_reason(request_id, p.deposit_method), f"deposit:{request_id}"
                asked = p.requested_at or at
                requests.append(
                    (
                        request_id,
                        wallets[wallet][0],
                        amount,
                        p.deposit_method,
                        "",
                        approved,
                        dt(asked) if dt else asked,
                        dt(at) if dt else at,
                        actor_id,
                        "",
                        entry_id,
                    )
                )
            entries.append(
                (entry_id, wallet, kind, amount, balance, p.order_id, reason[:255], actor_id, key, dt(at) if dt else at)
            )
        for start in range(0, len(unmatched), 5000):
            lot = unmatched[start : start + 5000]
            found = {
                order_id: (wallet, -amount)
                for order_id, wallet, amount in LedgerEntry.objects.filter(
                    kind=_CHARGE, order_id__in=[p.order_id for p in lot]
                ).values_list("order_id", "wallet_id", "amount")
            }
            for p in lot:
                if p.order_id not in found:
                    raise LedgerError(f"order {p.order_id} has no charge to refund")
                _refund_check(p, *found[p.order_id])
        try:
            with connection.wrap_database_errors:
                _rows_insert(LedgerEntry, _LEDGER_COLUMNS, entries)
                _rows_insert(DepositRequest, _DEPOSIT_COLUMNS, requests)
        except IntegrityError as exc:
            raise LedgerError(f"the ledger refused these movements: {exc}") from exc
        table = ops.quote_name(Wallet._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET balance = %s, updated_at = %s WHERE id = %s",  # noqa: S608 - from the model
                [(ops.adapt_decimalfield_value(balances[w]), dt(at) if dt else at, w) for w, at in last_at.items()],
            )
    return list(entry_ids)


def _refund_check(refund: Posting, wallet: int, charge: Decimal) -> None:
    if refund.wallet_id != wallet:
        raise LedgerError(
            f"refund for order {refund.order_id} to wallet {refund.wallet_id}: it was charged to {wallet}"
        )
    if refund.amount > charge:
        raise LedgerError(f"refund {refund.amount} for order {refund.order_id} exceeds its charge {charge}")


def _ids_reserve(model: type[Model], count: int) -> Sequence[int]:
    """`count` fresh increasing ids for `model`'s rows: from its sequence on PostgreSQL (a concurrent insert
    takes other numbers); on SQLite after the highest ever used, under the write lock every transaction
    takes at BEGIN (IMMEDIATE)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Taken one by one, handed back as runs of consecutive numbers (one run unless a concurrent
            # insert took some in between), so a big lot does not ship every id to Python.
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT min(id), max(id) FROM (SELECT id, id - row_number() OVER (ORDER BY id) AS run FROM "
                "(SELECT nextval(%s::regclass) AS id FROM generate_series(1, %s)) AS taken) AS numbered "
                "GROUP BY run ORDER BY 1",
                [sequence, count],
            )
            runs = [range(low, high + 1) for low, high in cursor.fetchall()]
            return runs[0] if len(runs) == 1 else [i for run in runs for i in run]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
    top = max(row[0] if row else 0, model.objects.aggregate(top=Max("pk"))["top"] or 0)
    return range(top + 1, top + 1 + count)


def _rows_insert(model: type[Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert tuples in column order: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    ops = connection.ops
    table, names = ops.quote_name(model._meta.db_table), ", ".join(ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - model names
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


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


def apikey_set_masking_callback(user: User, url: str) -> bool:
    """Save (or clear, with "") where the masking HTTP API sends the reseller's delivery reports. False when
    the reseller has no key yet (the setting lives with the key). The URL is checked by the form, and again
    by orders.forwarding before each call (no address inside the network)."""
    return ApiKey.objects.filter(user=user).update(masking_callback_url=url.strip()) == 1


def apikey_revoke(user: User) -> None:
    ApiKey.objects.filter(user=user).delete()


class AllowListInvalid(Exception):
    """The allow-list the reseller typed cannot be saved; the message is fit to show them."""


def apikey_set_allowed_ips(user: User, text: str) -> list[str]:
    """Save the addresses and networks allowed to use the reseller's key (empty = any address); returns
    them normalized. Raises AllowListInvalid (nothing saved) for a bad entry, too many, or no key yet.
    The list belongs to the key's row, so rotating the key keeps it."""
    try:
        entries = allow_list_parse(text)
    except AllowListError as exc:
        if exc.suggestion:
            message = _("“%(entry)s” is not a network address; did you mean %(network)s?") % {
                "entry": exc.entry,
                "network": exc.suggestion,
            }
        else:
            message = _("“%(entry)s” is not an IPv4 or IPv6 address or a CIDR range.") % {"entry": exc.entry}
        raise AllowListInvalid(message) from None
    if len(entries) > MAX_ALLOWED_ENTRIES:
        raise AllowListInvalid(_("At most %(count)d addresses or ranges.") % {"count": MAX_ALLOWED_ENTRIES})
    if not ApiKey.objects.filter(user=user).update(allowed_ips="\n".join(entries)):
        raise AllowListInvalid(_("Create an API key first."))
    return entries


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


def _deposit_reason(deposit_id: int, method: str) -> str:
    return _("Deposit #%(id)s (%(method)s)") % {"id": deposit_id, "method": DepositMethod(method).label}


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
                reason=_deposit_reason(deposit.pk, deposit.method),
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
