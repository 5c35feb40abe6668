from django.db import models


class Visit(models.Model):
    host = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)

    @classmethod
    def record(cls, host, release):
        cls.objects.create(host=host)

    @classmethod
    def summary(cls):
        return str(cls.objects.count())
