from django.db import models


class Visit(models.Model):
    host = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)
    # v2's migration adds it with a default in the database, so v1's code, rolled back to,
    # still writes visits.
    release = models.CharField(max_length=16, db_default="")

    @classmethod
    def record(cls, host, release):
        cls.objects.create(host=host, release=release)

    @classmethod
    def summary(cls):
        total = cls.objects.count()
        since = cls.objects.exclude(release="").count()
        return f"{total} ({since} since v2)"
