set -e
{% include "nginx/commands.sh" %}
{#- The site's file is written with `draining` marked down; a graceful reload, then a wait
    until the workers that held requests have finished them and gone, so a host taken out
    restarts with nothing in flight. #}
master=$(cat {{ prefixed("run/nginx.pid") if services == "user" else "/run/nginx.pid" }})
old=$(pgrep -P "$master") || old=""
$nginx_test
$nginx_reload
{{ knit.within(60) }}; do
  left=""
  for pid in $old; do if [ -e "/proc/$pid" ]; then left="$left $pid"; fi; done
  [ -z "$left" ] && break
  sleep 0.1
done
if [ -n "$left" ]; then echo "nginx workers$left still finish their requests after 60 s; going on"; fi
{% if draining -%}
echo "out of this proxy: "{{ draining|join(" ") }}
{%- else -%}
echo "every app host is in this proxy"
{%- endif %}
