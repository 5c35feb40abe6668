set -e
{{ knit.packages(packages) }}
if ! test -w {{ app_dir }}; then
  mkdir -p {{ app_dir }} 2>/dev/null || {{ sudo|safe }} install -d -o "$(id -un)" -g "$(id -gn)" {{ app_dir }}
  echo "made "{{ app_dir }}", owned by $(id -un)"
fi
mkdir -p {{ app_dir }}/releases {{ app_dir }}/shared
{% for folder in [static_dir, media_dir] if folder %}mkdir -p {{ folder if folder is startingwith "/" else app_dir ~ "/" ~ folder }}
{% endfor -%}
{% if services == "user" %}mkdir -p {{ prefixed("run") }} {{ prefixed("var/log") }} 2>/dev/null || {{ sudo|safe }} install -d -o "$(id -un)" {{ prefixed("run") }} {{ prefixed("var/log") }}
{% else %}unit=/etc/systemd/system/{{ service }}.service.d/knit-user.conf
printf '[Service]\nUser=%s\nGroup=%s\n' "$(id -un)" "$(id -gn)" > /tmp/knit-user.$$
if ! {{ sudo|safe }} cmp -s /tmp/knit-user.$$ "$unit"; then {{ sudo|safe }} install -D -m 644 /tmp/knit-user.$$ "$unit"; echo {{ service }}" runs as $(id -un)"; fi
rm -f /tmp/knit-user.$$
{% endif %}
