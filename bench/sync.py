"""Catalogue sync of 20,000 items: first sync and a no-change re-sync, against a bare bulk_create.

Baseline: `Service.objects.bulk_create` of the same 20,000 rows (built from the same ServiceInfo items with
providers.sync's own row mapping), into a provider of its own, in one transaction. First sync:
providers.sync.catalogue_apply on an empty provider (inserts the services and prices them for every tier
with pricing_refresh: 60,000 ServicePrice rows for three tiers). Re-sync: catalogue_apply again with the
same items; it must write nothing to services or prices (the provider's "last sync" bookkeeping row is the
only UPDATE). Each round uses fresh providers; the three timings of a round are taken back to back and the
ratios are the medians over the rounds.
"""

from __future__ import annotations

import statistics
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from bench.common import Report, count_queries, timed

WRITES = ("INSERT", "UPDATE", "DELETE")


def items(count: int) -> list:
    """An SMM catalogue as an SMM v2 upstream describes it (raw JSON kept, as the adapter does)."""
    from providers.adapters.types import ProductKind, ServiceInfo

    platforms = ("Instagram", "TikTok", "YouTube", "Facebook", "Twitter", "Telegram", "Spotify", "Shopee")
    what = ("Followers", "Likes", "Views", "Comments", "Shares", "Saves")
    result = []
    for i in range(count):
        platform, item = platforms[i % len(platforms)], what[(i // len(platforms)) % len(what)]
        rate = Decimal(500 + (i * 37) % 40_000) / 10
        raw = {
            "service": 100_000 + i,
            "name": f"{platform} {item} [Real] [Max 100K] #{i}",
            "type": "Default",
            "category": f"{platform} {item}",
            "rate": str(rate),
            "min": "100",
            "max": "100000",
            "refill": i % 3 == 0,
            "cancel": i % 2 == 0,
        }
        result.append(
            ServiceInfo(
                external_id=str(100_000 + i),
                name=raw["name"],
                category=raw["category"],
                kind=ProductKind.SMM,
                cost=rate,
                min_qty=100,
                max_qty=100_000,
                can_refill=raw["refill"],
                can_cancel=raw["cancel"],
                raw=raw,
            )
        )
    return result


def run(report: Report, *, names=None, quick: bool = False, prefix: str) -> None:
    from providers.models import Service, ServicePrice
    from providers.services import provider_save
    from providers.sync import BATCH, _row, catalogue_apply

    count, rounds = (5_000, 1) if quick else (20_000, 3)
    catalogue = items(count)
    first_ratios, resync_ratios, baselines, firsts, resyncs = [], [], [], [], []
    resync_writes: list[str] = []
    for r in range(rounds):
        base_provider, _ = provider_save(name=f"Bench baseline {r}", kind="smm_v2", base_url="https://b.example/api")
        provider, _ = provider_save(name=f"Bench sync {r}", kind="smm_v2", base_url="https://s.example/api")

        def baseline(base_provider=base_provider) -> None:
            now = timezone.now()
            with transaction.atomic():
                Service.objects.bulk_create(
                    [
                        Service(provider=base_provider, external_id=i.external_id, synced_at=now, **_row(i))
                        for i in catalogue
                    ],
                    batch_size=BATCH,
                )

        base_time, _ = timed(baseline)
        first_time, first = timed(lambda provider=provider: catalogue_apply(provider, catalogue))
        with count_queries() as queries:
            resync_time, again = timed(lambda provider=provider: catalogue_apply(provider, catalogue))
        writes = [q for q in queries if q.lstrip().upper().startswith(WRITES)]
        resync_writes = [q for q in writes if '"providers_provider"' not in q.split("SET")[0]]
        report.note(
            f"round {r + 1}: bulk_create {base_time:.3f} s, first sync {first_time:.3f} s ({first}), "
            f"re-sync {resync_time:.3f} s ({again}; {len(queries)} queries, {len(writes)} writes)"
        )
        baselines.append(base_time)
        firsts.append(first_time)
        resyncs.append(resync_time)
        first_ratios.append(first_time / base_time)
        resync_ratios.append(resync_time / base_time)

    prices = ServicePrice.objects.filter(service__provider__name__startswith="Bench sync").count()
    report.note(f"{prices:,} sell prices written by the first syncs ({count:,} services x tiers x {rounds} rounds)")
    base = statistics.median(baselines)
    report.add(
        f"first sync of {count:,} items",
        statistics.median(firsts),
        unit="s",
        baseline=base,
        baseline_label="bare bulk_create of the same rows",
        ratio=statistics.median(first_ratios),
        target="<= 3",
        note=f"median of {rounds} rounds; includes pricing_refresh of every tier",
    )
    report.add(
        f"no-change re-sync of {count:,} items",
        statistics.median(resyncs),
        unit="s",
        baseline=base,
        baseline_label="bare bulk_create of the same rows",
        ratio=statistics.median(resync_ratios),
        target="<= 3",
        note=f"median of {rounds} rounds",
    )
    report.add("re-sync writes to services and prices", len(resync_writes), unit="statements", target="== 0")
    connection.close()
