"""One page that says which release serves it, from which host, and what it reached."""
import os
import pwd
from pathlib import Path

from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.utils.html import escape

from .models import Visit

RELEASE = Path("RELEASE").read_text().strip()


def commit():
    """The commit knit deployed: the first line of the release's .knit-release."""
    written = Path(".knit-release")
    return written.read_text().split()[0][:7] if written.exists() else "unknown"


def counted(cache):
    """This page's hits as `cache` counts them."""
    cache.add("hits", 0, timeout=None)
    return cache.incr("hits")


def home(request):
    host = os.environ.get("KNIT_HOST", "unknown")
    Visit.record(host, RELEASE)
    lines = [
        f"release {RELEASE}",
        f"commit {commit()}",
        f"host {host}",
        f"user {pwd.getpwuid(os.getuid()).pw_name}",
        f"visits {Visit.summary()}",
        f"memcached hits {counted(caches['default'])}",
        f"redis hits {counted(caches['redis'])}",
    ]
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return HttpResponse(
        f"<!doctype html><title>knit demo {escape(RELEASE)}</title>"
        '<link rel="stylesheet" href="/static/visits/site.css">'
        f"<h1>knit's demo site, {escape(RELEASE)}</h1><ul>{items}</ul>"
    )


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("select 1")
    return HttpResponse("ok\n", content_type="text/plain")
