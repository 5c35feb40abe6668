set -e
{% include "nginx/commands.sh" %}
if [ ! -L "$enabled" ]; then
  {{ sudo }} mkdir -p "$(dirname "$enabled")"
  {{ sudo }} ln -sfn "$available" "$enabled"
  echo "enabled the sites of {{ cluster }}"
fi
$nginx_test
$nginx_reload
echo "nginx serves $(readlink "$enabled")"
