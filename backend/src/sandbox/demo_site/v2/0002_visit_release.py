from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]
    operations = [
        migrations.AddField(
            model_name="visit",
            name="release",
            field=models.CharField(db_default="", max_length=16),
        ),
    ]
