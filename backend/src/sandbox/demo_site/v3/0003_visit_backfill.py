"""v3 names the release of the visits made before v2 recorded it. It cannot be undone: knit's
rollback from v3 stops before it changes anything."""
from django.db import migrations


def backfill(apps, schema_editor):
    apps.get_model("visits", "Visit").objects.filter(release="").update(release="before v2")


class Migration(migrations.Migration):
    dependencies = [("visits", "0002_visit_release")]
    operations = [migrations.RunPython(backfill)]
