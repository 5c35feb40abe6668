{#- Runs `command` (a setting) in the live release with the app's environment. -#}
set -e
{% if command -%}
cd {{ app_dir }}/current
set -a; . {{ app_dir }}/shared/knit.env; set +a
{{ command|safe }}
{%- else -%}
echo "nothing to do: "{{ what }}" is empty"
{%- endif %}
