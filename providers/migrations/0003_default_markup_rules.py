"""Default markup rules, so a fresh install sells at a profit: a global rule per tier and a global
all-tier fallback for tiers added later. Operators change them in the admin."""

from decimal import Decimal

from django.db import migrations

TIER_PERCENT = {"Basic": Decimal("15.00"), "Reseller": Decimal("10.00"), "VIP": Decimal("6.00")}
FALLBACK_PERCENT = Decimal("15.00")
STEP = Decimal("50.00")


def create_rules(apps, schema_editor):
    Tier = apps.get_model("accounts", "Tier")
    MarkupRule = apps.get_model("providers", "MarkupRule")
    global_scope = {"service": None, "category": "", "provider": None}
    for tier in Tier.objects.filter(name__in=TIER_PERCENT):
        MarkupRule.objects.get_or_create(
            tier=tier,
            **global_scope,
            defaults={"percent": TIER_PERCENT[tier.name], "rounding_step": STEP, "note": "default"},
        )
    MarkupRule.objects.get_or_create(
        tier=None,
        **global_scope,
        defaults={"percent": FALLBACK_PERCENT, "rounding_step": STEP, "note": "default (all tiers)"},
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_default_tiers"), ("providers", "0002_markuprule_serviceprice_and_more")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
