{#- Included once the app answers: the live release records the schema it runs with
    (migration_state_command's output), which a rollback to it goes back to. -#}
(cd {{ app_dir }}/current && set -a && . {{ app_dir }}/shared/knit.env && set +a && {{ migration_state_command|safe }}) > {{ app_dir }}/current/.knit-migrations.new
mv {{ app_dir }}/current/.knit-migrations.new {{ app_dir }}/current/.knit-migrations
echo "schema recorded: $(tr '\n' ' ' < {{ app_dir }}/current/.knit-migrations)"
