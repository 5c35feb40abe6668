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
{% else -%}
{#- The app runs as an account of its own, which may read the releases (the login user's) and
    write only its uploads: a hole in the app is not a way to change its code. -#}
{% set account = run_as if run_as else service -%}
if ! id -u {{ account }} >/dev/null 2>&1; then
  {{ sudo|safe }} useradd --system --user-group --no-create-home --home-dir {{ app_dir }} --shell /usr/sbin/nologin {{ account }}
  echo "made the account "{{ account }}
fi
{% if media_dir -%}
{{ sudo|safe }} chown {{ account }}: {{ media_dir if media_dir is startingwith "/" else app_dir ~ "/" ~ media_dir }}
{% endif -%}
unit=/etc/systemd/system/{{ service }}.service.d/knit-user.conf
printf '[Service]\nUser=%s\nGroup=%s\n' {{ account }} "$(id -gn {{ account }})" > /tmp/knit-user.$$
if ! {{ sudo|safe }} cmp -s /tmp/knit-user.$$ "$unit"; then {{ sudo|safe }} install -D -m 644 /tmp/knit-user.$$ "$unit"; echo {{ service }}" runs as "{{ account }}; fi
rm -f /tmp/knit-user.$$
{% endif %}
