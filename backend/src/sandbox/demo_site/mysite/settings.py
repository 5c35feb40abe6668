"""The sandbox's demo site: PostgreSQL through pgbouncer, memcached and redis as caches, all
found through the environment knit writes (the django kind's `env`)."""
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
# A demo's key: the site keeps no sessions or signed data.
SECRET_KEY = os.environ.get("SECRET_KEY", "knit-sandbox-demo")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles", "visits"]
ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_URL = "static/"
# Where knit's django kind collects them, outside the releases, for nginx to serve.
STATIC_ROOT = os.environ.get("STATIC_ROOT", BASE_DIR / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", BASE_DIR / "media")

database = urlsplit(os.environ["DATABASE_URL"])
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": database.hostname,
        "PORT": database.port or 6432,
        "NAME": database.path.lstrip("/"),
        "USER": database.username,
        "PASSWORD": unquote(database.password or ""),
        # pgbouncer hands each transaction any server connection: no cursors across them.
        "DISABLE_SERVER_SIDE_CURSORS": True,
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": os.environ["MEMCACHED_SERVERS"].split(","),
    },
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    },
}
