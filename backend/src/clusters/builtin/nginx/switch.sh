set -e
{% include "nginx/commands.sh" %}
previous=$(readlink "$enabled" || true)
{{ sudo|safe }} mkdir -p "$(dirname "$enabled")"
{{ sudo|safe }} ln -sfn "$available"{{ suffix }} "$enabled"
if ! $nginx_test; then
  if [ -n "$previous" ]; then {{ sudo|safe }} ln -sfn "$previous" "$enabled"; else {{ sudo|safe }} rm -f "$enabled"; fi
  echo "nginx refused $available"{{ suffix }}"; it still serves what it served" >&2
  exit 1
fi
# The workers serving now, to see them gone after the reload.
master=$(cat {% if services == "user" %}{{ prefixed("run/nginx.pid") }}{% else %}/run/nginx.pid{% endif %} 2>/dev/null || true)
old_workers=$(if [ -n "$master" ]; then pgrep -P "$master" || true; fi)
$nginx_reload
# A reload takes effect when nginx's new workers answer; wait for them, so that the step ends
# with the site as it says. The maintenance page answers 503 at once; the site is up once an
# answer is anything else, or does not come at once (nginx passed the request on to the app).
url=http://{{ listen if ':' in listen|string else '127.0.0.1:' ~ listen }}/
{{ knit.within(10) }}; do
  if code=$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' -H 'Host: {{ sites[0] }}' "$url"); then status=0; else status=$?; fi
{%- if suffix %}
  [ "$code" = 503 ] && break
{%- else %}
  # curl's 28: connected and asked, but no answer within its time.
  { [ "$code" != 503 ] && [ "$code" != 000 ]; } || [ "$status" = 28 ] && break
{%- endif %}
  sleep 0.1
done
# A worker of before may take a connection until it has heard that it must stop: wait until
# they are gone (one still busy with a slow request keeps the step no longer than 10 s).
{{ knit.within(10) }}; do
  left=""; for pid in $old_workers; do [ -e "/proc/$pid" ] && left=1; done
  [ -z "$left" ] && break
  sleep 0.05
done
echo "nginx serves $available"{{ suffix }}"; $url answers $code"
