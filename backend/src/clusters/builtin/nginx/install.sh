set -e
{{ knit.packages(["nginx", "curl"]) }}
{% if services == "systemd" -%}
if [ -e /etc/nginx/sites-enabled/default ]; then {{ sudo|safe }} rm /etc/nginx/sites-enabled/default; echo "disabled nginx's default site"; fi
{%- else -%}
mkdir -p {{ prefixed("var/log/nginx") }} {{ prefixed("var/lib/nginx") }} {{ prefixed("run") }}
{%- endif %}
