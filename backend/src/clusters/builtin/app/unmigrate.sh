{#- Before a rollback: the database back to the schema the release gone back to ran with (its
    .knit-migrations, written when it last started), by the live release's code, which holds
    the reverse operations. unmigrate_command refuses before changing anything when it cannot. -#}
set -e
{% if unmigrate_command -%}
cd {{ app_dir }}
{% include 'app/target.sh' %}
if [ "$target" = "$now" ]; then echo "$target is live: no schema to change"; exit 0; fi
if [ ! -f "releases/$target/.knit-migrations" ]; then echo "$target has no recorded schema (it never started with migration_state_command): the schema is left as it is"; exit 0; fi
KNIT_MIGRATIONS={{ app_dir }}/releases/$target/.knit-migrations
export KNIT_MIGRATIONS
cd current
set -a; . {{ app_dir }}/shared/knit.env; set +a
{% if migration_state_command -%}
# The schema now, as migration_state_command says it, for unmigrate_command to compare.
KNIT_MIGRATIONS_NOW={{ app_dir }}/current/.knit-migrations.now
export KNIT_MIGRATIONS_NOW
( {{ migration_state_command|safe }} ) > "$KNIT_MIGRATIONS_NOW"
{% endif -%}
{{ unmigrate_command|safe }}
{%- else -%}
echo "nothing to do: unmigrate_command is empty"
{%- endif %}
