"""The refresh tick over 10,000 active orders across providers.

Setup: two VirtuSIM accounts (2,000 active OTP orders each) and two SMM v2 accounts (3,000 active SMM orders
each), every order charged in the ledger. The upstreams are bench.stub.StubServer, a real HTTP server in a
thread that answers each call after LATENCY seconds (a fast vendor's round trip), so the tick runs the real
adapters, requests and JSON parsing. One tick in ten finds news: OTP codes arriving, SMM orders completing,
partially completing (refund of the remains), cancelled (full refund) or starting.

Figures: upstream HTTP calls per account (target: one per VirtuSIM account, ceil(n/100) per SMM v2 account
with multi-status), database queries of the tick, and its wall time as a ratio to the upstream calls alone:
the same adapters' fetch_statuses with the same ids against the same stub, timed before and after the tick.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import connection, transaction

from bench.common import Report, count_queries, timed

LATENCY = 0.1  # seconds per upstream call
CHANGE_EVERY = 10  # one order in ten has news


def _seed(server, per_virtusim: int, per_smm: int) -> dict:
    from accounts.models import LedgerEntry, LedgerKind, Wallet
    from accounts.services import reseller_create
    from orders.models import Order
    from providers.models import Service
    from providers.pricing import pricing_refresh
    from providers.services import provider_save

    users = [
        reseller_create(username=f"bench-refresh-{i}", password=f"bench-{i}-Secret1", deposit=Decimal(10**9))
        for i in range(4)
    ]
    wallets = {w.user_id: w for w in Wallet.objects.filter(user__in=users)}
    balances = {w.pk: w.balance for w in wallets.values()}
    providers, orders = [], []
    ext = 700_000
    for name, kind, count in (
        ("virtusim-a", "virtusim", per_virtusim),
        ("virtusim-b", "virtusim", per_virtusim),
        ("smm-a", "smm_v2", per_smm),
        ("smm-b", "smm_v2", per_smm),
    ):
        account = server.add(name, kind)
        provider, _ = provider_save(name=f"Bench {name}", kind=kind, base_url=server.url(name), api_key=f"key-{name}")
        product = "otp" if kind == "virtusim" else "smm"
        service = Service.objects.create(
            provider=provider,
            external_id="11" if kind == "virtusim" else "2001",
            name="WhatsApp (any)" if kind == "virtusim" else "Instagram Followers [Real]",
            category="Indonesia" if kind == "virtusim" else "Instagram Followers",
            kind=product,
            cost=Decimal("2500") if kind == "virtusim" else Decimal("12000"),
            min_qty=1 if kind == "virtusim" else 100,
            max_qty=1 if kind == "virtusim" else 100_000,
        )
        pricing_refresh([service.pk])
        providers.append(provider)
        for i in range(count):
            ext += 1
            user = users[i % len(users)]
            quantity = 1 if kind == "virtusim" else 1000
            charge = Decimal("3000.00") if kind == "virtusim" else Decimal("13800.00")
            order = Order(
                user=user,
                kind=product,
                service=service,
                provider=provider,
                status="pending",
                raw_status="Pending",
                external_id=str(ext),
                unit_price=charge if kind == "virtusim" else Decimal("13800"),
                unit_cost=service.cost,
                quantity=quantity,
                charge=charge,
                cost=service.cost * quantity / (1 if kind == "virtusim" else 1000),
                target="6281234567890" if kind == "virtusim" else "https://instagram.com/p/Cbench",
                operator="any" if kind == "virtusim" else "",
                start_count=None if kind == "virtusim" else 0,
                remains=None if kind == "virtusim" else quantity,
            )
            orders.append(order)
            news = i % CHANGE_EVERY == 0
            if kind == "virtusim":
                entry = {"id": str(ext), "status": "Pending", "number": order.target, "otp": "waiting sms code"}
                if news:
                    sms = "<#> 482913 adalah kode verifikasi WhatsApp Anda."
                    entry.update(status="Otp Diterima", otp=sms, sms=sms)
            else:
                entry = {"status": "Pending", "remains": str(quantity), "start_count": "0", "charge": "13.8"}
                if news:
                    variant = (i // CHANGE_EVERY) % 5
                    entry = {
                        0: {"status": "Completed", "remains": "0", "start_count": "0"},
                        1: {"status": "Completed", "remains": "0", "start_count": "0"},
                        2: {"status": "Partial", "remains": "400", "start_count": "0"},
                        3: {"status": "Canceled", "remains": str(quantity), "start_count": "0"},
                        4: {"status": "In progress", "remains": "700", "start_count": "0"},
                    }[variant]
            account.orders[str(ext)] = entry
    with transaction.atomic():
        Order.objects.bulk_create(orders, batch_size=2000)
        entries = []
        for order in orders:
            wallet = wallets[order.user_id]
            balances[wallet.pk] -= order.charge
            entries.append(
                LedgerEntry(
                    wallet=wallet,
                    kind=LedgerKind.CHARGE,
                    amount=-order.charge,
                    balance_after=balances[wallet.pk],
                    order_id=order.pk,
                    reason=f"Order #{order.pk}",
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=2000)
        for wallet_id, balance in balances.items():
            Wallet.objects.filter(pk=wallet_id).update(balance=balance)
    return {"providers": providers, "orders": len(orders)}


def run(report: Report, *, names=None, quick: bool = False, prefix: str) -> None:
    from accounts.selectors import ledger_violations
    from bench.stub import StubServer
    from orders.models import Order
    from orders.refresh import refresh_tick
    from providers.services import provider_adapter

    per_virtusim, per_smm = (200, 300) if quick else (2_000, 3_000)
    with StubServer(latency=LATENCY) as server:
        seeded = _seed(server, per_virtusim, per_smm)
        providers = seeded["providers"]
        ids = {
            p.pk: list(
                Order.objects.filter(provider=p, status__in=["pending", "processing"])
                .order_by("id")
                .values_list("external_id", flat=True)
            )
            for p in providers
        }
        report.note(
            f"{seeded['orders']:,} active orders: {', '.join(f'{p.name} {len(ids[p.pk]):,}' for p in providers)}; "
            f"stub latency {LATENCY * 1000:.0f} ms per call; one order in {CHANGE_EVERY} has news"
        )

        def upstream_alone() -> None:
            for provider in providers:
                provider_adapter(provider).fetch_statuses(ids[provider.pk])

        before, _ = timed(upstream_alone)
        server.reset_calls()
        with count_queries() as queries:
            tick_time, stats = timed(refresh_tick)
        calls = dict(server.calls)
        after, _ = timed(upstream_alone)
        baseline = (before + after) / 2
        report.note(f"tick: {stats}; upstream alone {before:.3f} s before, {after:.3f} s after")

        for provider in providers:
            account = provider.name.removeprefix("Bench ")
            n = len(ids[provider.pk])
            expected = 1 if provider.kind == "virtusim" else math.ceil(n / 100)
            report.add(
                f"upstream calls, {provider.kind} account {account} ({n:,} orders)",
                calls.get(account, 0),
                unit="calls",
                baseline=expected,
                baseline_label="1 per account" if provider.kind == "virtusim" else "ceil(n/100)",
                target="<= 1",
            )
        report.add(
            f"database queries of the tick ({stats.checked:,} orders, {stats.changed:,} changed)",
            len(queries),
            unit="queries",
            note=f"{(len(queries) - 2) / max(stats.changed, 1):.1f} per changed order",
        )
        report.add(
            f"refresh tick over {stats.checked:,} active orders",
            tick_time,
            unit="s",
            baseline=baseline,
            baseline_label="the same upstream calls alone",
            target="<= 2",
        )
    problems = ledger_violations()
    for line in problems[:10]:
        report.note(f"ledger violation: {line}")
    report.add("ledger_check violations after the tick", len(problems), target="== 0")
    connection.close()
