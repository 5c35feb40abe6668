set -e
{% include "nginx/commands.sh" %}
if [ ! -L "$enabled" ]; then
  {{ sudo|safe }} mkdir -p "$(dirname "$enabled")"
  {{ sudo|safe }} ln -sfn "$available" "$enabled"
  echo "enabled the sites of "{{ cluster }}
fi
$nginx_test
$nginx_reload
echo "nginx serves $(readlink "$enabled")"
