set -e
{% import "postgres/paths.j2" as pg -%}
{{ knit.packages(["postgresql-" ~ pg.version, "pgbouncer"]) }}
{% if services == "user" -%}
mkdir -p {{ pg.run }} {{ prefixed("run/pgbouncer") }} {{ prefixed("var/log/postgresql") }} {{ pg.etc }}/conf.d
if [ ! -s {{ pg.data }}/PG_VERSION ]; then
  mkdir -p {{ pg.data }}
  {{ pg.bin }}/initdb -D {{ pg.data }} -U postgres --auth-local=trust --auth-host=scram-sha-256 > {{ pg.log }}
  echo "include_dir = '"{{ pg.etc }}"/conf.d'" >> {{ pg.data }}/postgresql.conf
  echo "made the database cluster "{{ pg.data }}
fi
{%- endif %}
