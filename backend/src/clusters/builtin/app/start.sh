{#- The app's start script with services = "user", run by restart in a process group of its
    own: it records its pid and becomes `start`. -#}
cd {{ app_dir }}/current
set -a; . {{ app_dir }}/shared/knit.env; set +a
echo $$ > {{ prefixed("run/" ~ service ~ ".pid") }}
{{ start|safe }}
