from django.db import migrations

TIERS = [("Basic", 10, True, "Harga standar"), ("Reseller", 20, False, "Harga reseller"), ("VIP", 30, False, "Harga terbaik")]


def create_tiers(apps, schema_editor):
    Tier = apps.get_model("accounts", "Tier")
    for name, order, default, description in TIERS:
        Tier.objects.get_or_create(
            name=name, defaults={"sort_order": order, "is_default": default, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_tiers, migrations.RunPython.noop)]
