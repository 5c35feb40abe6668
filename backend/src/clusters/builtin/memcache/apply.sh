set -e
{% set pidfile = prefixed("run/memcached/memcached.pid") -%}
{% set conf = prefixed("etc/memcached.conf") -%}
{% if services == "user" %}mkdir -p {{ prefixed("run/memcached") }}
{% endif -%}
{{ knit[action](
     "memcached", prefixed("var/lib/knit/memcached.started"), files=[conf],
     start="memcached -d -P " ~ pidfile|quote ~ " $(grep -v '^#' " ~ conf|quote ~ ")",
     pidfile=pidfile, log="/dev/null") }}
