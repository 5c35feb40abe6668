set -e
{% include "nginx/commands.sh" %}
previous=$(readlink "$enabled" || true)
{{ sudo }} mkdir -p "$(dirname "$enabled")"
{{ sudo }} ln -sfn "$available{{ suffix }}" "$enabled"
if ! $nginx_test; then
  if [ -n "$previous" ]; then {{ sudo }} ln -sfn "$previous" "$enabled"; else {{ sudo }} rm -f "$enabled"; fi
  echo "nginx refused $available{{ suffix }}; it still serves what it served" >&2
  exit 1
fi
$nginx_reload
# A reload takes effect when nginx's new workers answer; wait for them, so that the step ends
# with the site as it says.
url="http://{{ listen if ':' in listen|string else '127.0.0.1:' ~ listen }}/"
{{ knit.within(10) }}; do
  code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' -H 'Host: {{ sites[0] }}' "$url" || true)
  {% if suffix %}[ "$code" = 503 ]{% else %}[ "$code" != 503 ] && [ "$code" != 000 ]{% endif %} && break
  sleep 0.1
done
echo "nginx serves $available{{ suffix }}; $url answers $code"
