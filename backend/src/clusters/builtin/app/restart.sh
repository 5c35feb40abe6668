set -e
{% set pidfile = prefixed("run/" ~ service ~ ".pid") -%}
{% set log = prefixed("var/log/" ~ service ~ ".log") -%}
{% if services != "user" -%}
{{ sudo|safe }} systemctl daemon-reload
{% endif -%}
{#- setsid makes knit-start.sh (written before) the leader of its own process group: `start`
    may be any shell command, and stopping the group stops all of it. -#}
{{ knit.restart(service, prefixed("var/lib/knit/" ~ service ~ ".started"),
     start="setsid sh " ~ (app_dir ~ "/shared/knit-start.sh")|quote ~ " >> " ~ log|quote ~ " 2>&1 < /dev/null &",
     pidfile=pidfile, log=log, group=true) }}
# The app answers on {{ health_path }} within {{ health_timeout }} s, or the step fails with its log.
url=http://127.0.0.1:{{ app_port }}{{ health_path }}
{{ knit.within(health_timeout) }}; do
  if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
    echo {{ service }}" answers on $url"
{% if migration_state_command %}{% include 'app/schema.sh' %}
{% endif %}    exit 0
  fi
  sleep 0.2
done
echo {{ service }}" does not answer on $url after "{{ health_timeout }}" s; the end of its log:" >&2
{% if services == "user" %}tail -n 20 {{ log }} >&2{% else %}{{ sudo|safe }} journalctl -u {{ service }} -n 20 --no-pager >&2{% endif %}
exit 1
