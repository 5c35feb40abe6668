{#- Makes this run's release, checked out and built, without putting it live: the live release
    serves meanwhile. A release this run made already (an update after its prepare, a retried
    run) is kept as it is. -#}
set -e
cd {{ app_dir }}
for made in releases/{{ run_stamp }}-*; do
  if [ -d "$made" ]; then echo "${made#releases/} is prepared"; exit 0; fi
done
if [ -d repo ]; then git -C repo fetch --quiet --prune --tags origin '+refs/heads/*:refs/heads/*'; else git clone --quiet --mirror {{ repository }} repo; fi
# No ref: the repository's default branch (its HEAD when the mirror was made).
ref={{ ref }}
[ -n "$ref" ] || ref=$(git -C repo symbolic-ref --short HEAD)
commit=$(git -C repo rev-parse --verify --quiet "$ref^{commit}") || { echo "$ref is no branch, tag or commit of "{{ repository }} >&2; exit 1; }
# Named by the run, so every host of a run makes the same release of the same commit.
release={{ run_stamp }}-$(printf %.7s "$commit")
rm -rf "releases/.$release"
mkdir -p "releases/.$release"
git -C repo archive "$commit" | tar -x -C "releases/.$release"
printf '%s\n%s\n' "$commit" "$ref" > "releases/.$release/.knit-release"
{% for file in shared_files %}ln -sfn {{ app_dir }}/shared/{{ file }} "releases/.$release/"{{ file }}
{% endfor %}
{%- if build %}(cd "releases/.$release" && set -a && . {{ app_dir }}/shared/knit.env && set +a && {{ build|safe }})
{% endif -%}
mv "releases/.$release" "releases/$release"
echo "prepared $release: $ref at $commit"
