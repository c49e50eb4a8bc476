"""SMS routes were named "SMS Reguler (<provider name>)": that name reached resellers (orders CSV). A route's
name is its type alone now; the admin shows the provider in its own column."""

from django.db import migrations

LABELS = {"reguler": "SMS Reguler", "masking": "SMS Masking", "otp": "SMS OTP"}


def rename(apps, schema_editor):
    Service = apps.get_model("providers", "Service")
    for route, label in LABELS.items():
        Service.objects.filter(kind="sms", external_id=route).update(name=label)


class Migration(migrations.Migration):
    dependencies = [("providers", "0003_default_markup_rules")]
    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
