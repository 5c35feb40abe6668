{#- The nginx commands of the role, as shell variables: $nginx_test, $nginx_reload. -#}
PATH="$PATH:/usr/sbin:/sbin"
{% if services == "user" -%}
nginx="nginx -c "{{ prefixed('etc/nginx/nginx.conf') }}" -e "{{ prefixed('var/log/nginx/error.log') }}
nginx_test="$nginx -t -q"
if {{ knit.running(prefixed("run/nginx.pid")) }}; then nginx_reload="$nginx -s reload"; else nginx_reload="$nginx"; fi
{%- else -%}
nginx_test="{{ sudo|safe }} nginx -t -q"
nginx_reload="{{ sudo|safe }} systemctl reload-or-restart nginx"
{%- endif %}
enabled={{ prefixed("etc/nginx/sites-enabled/" ~ cluster) }}
available={{ prefixed("etc/nginx/sites-available/" ~ cluster) }}
