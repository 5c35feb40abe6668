set -e
{% set pidfile = prefixed("run/redis/redis-server.pid") -%}
{% set log = prefixed("var/log/redis/redis-server.log") -%}
{% set conf = prefixed("etc/redis/redis.conf") -%}
{% if services == "user" %}mkdir -p {{ prefixed("run/redis") }} {{ prefixed("var/lib/redis") }} {{ prefixed("var/log/redis") }}
{% endif -%}
{{ knit[action](
     "redis-server", prefixed("var/lib/knit/redis-server.started"), files=[conf],
     start="redis-server " ~ conf|quote, pidfile=pidfile, log=log) }}
