{#- Runs `command` (a setting) with the app's environment in this run's release, prepared or
    live, or else in the live release. -#}
set -e
{% if command -%}
cd {{ app_dir }}
release=current
for made in releases/{{ run_stamp }}-*; do
  if [ -d "$made" ]; then release=$made; fi
done
cd "$release"
set -a; . {{ app_dir }}/shared/knit.env; set +a
{{ command|safe }}
{%- else -%}
echo "nothing to do: "{{ what }}" is empty"
{%- endif %}
