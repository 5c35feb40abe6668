set -e
{% import "postgres/paths.j2" as pg -%}
PATH="$PATH:/usr/sbin:/sbin"
{{ knit[action](
     "postgresql@" ~ pg.version ~ "-main", prefixed("var/lib/knit/postgresql.started"),
     files=[pg.etc ~ "/conf.d/knit.conf", pg.etc ~ "/pg_hba.conf"],
     start=(pg.bin ~ "/pg_ctl")|quote ~ " -D " ~ pg.data|quote ~ " -l " ~ pg.log|quote ~ " -w -s start",
     pidfile=pg.pidfile, log=pg.log, signal="INT", enable="postgresql") }}
{% if services == "user" -%}
psql={{ pg.bin }}"/psql -h "{{ pg.run }}" -p "{{ port }}" -U postgres"
{%- else -%}
psql="{{ (sudo if sudo else 'runuser')|safe }} -u postgres -- psql -p "{{ port }}
{%- endif %}
psql="$psql -X -q -t -A -v ON_ERROR_STOP=1 -d postgres"
if [ "$($psql -c "select count(*) from pg_roles where rolname = "{{ user|sql_literal }})" = 0 ]; then
  $psql -c "create role "{{ user|sql_name }}" login"
  echo "created the role "{{ user }}
fi
if [ "$($psql -c "select count(*) from pg_database where datname = "{{ db_name|sql_literal }})" = 0 ]; then
  $psql -c "create database "{{ db_name|sql_name }}" owner "{{ user|sql_name }}
  echo "created the database "{{ db_name }}
fi
{% if password -%}
{#- The verifier is read from pgbouncer's file, so that it is in no command or log line. -#}
verifier=$({{ sudo|safe }} grep -o 'SCRAM-SHA-256\$[^"]*' {{ pg.bouncer_etc }}/userlist.txt)
if [ "$($psql -c "select coalesce(rolpassword, '') from pg_authid where rolname = "{{ user|sql_literal }})" != "$verifier" ]; then
  $psql -c "alter role "{{ user|sql_name }}" password '$verifier'"
  echo "set the password of the role "{{ user }}
fi
{% elif user not in trust_users -%}
{{ fail("bounced_postgres " ~ role ~ ": " ~ user ~ " has no password and is not in trust_users, so nobody could log in as it: give password_env or password_file") }}
{% endif -%}
{{ knit[action](
     "pgbouncer", prefixed("var/lib/knit/pgbouncer.started"),
     files=[pg.bouncer_etc ~ "/pgbouncer.ini", pg.bouncer_etc ~ "/pg_hba.conf", pg.bouncer_etc ~ "/userlist.txt"],
     start="pgbouncer -d -q " ~ (pg.bouncer_etc ~ "/pgbouncer.ini")|quote,
     pidfile=pg.bouncer_pidfile, log=pg.bouncer_log) }}
{#- Checked as the app logs in: with its password, unless it is trusted. #}
{{ knit.within(10) }}; do
  answer=$({% if user not in trust_users %}PGPASSFILE="$HOME/.knit/pgpass-"{{ role }} {% endif %}psql -h 127.0.0.1 -p {{ bouncer_port }} -U {{ user }} -d {{ db_name }} -X -t -A -w -c 'select current_database()' 2>&1) && break
  sleep 0.2
done
if [ "$answer" != {{ db_name }} ]; then echo {{ db_name }}" does not answer through pgbouncer on port "{{ bouncer_port }}": $answer" >&2; exit 1; fi
echo {{ user }}" logs in to "{{ db_name }}" through pgbouncer on port "{{ bouncer_port }}{{ " (trusted)" if user in trust_users else " with its password" }}
