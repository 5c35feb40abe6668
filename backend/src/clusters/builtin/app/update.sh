set -e
cd {{ app_dir }}
if [ -d repo ]; then git -C repo fetch --quiet --prune --tags origin '+refs/heads/*:refs/heads/*'; else git clone --quiet --mirror {{ repository }} repo; fi
commit=$(git -C repo rev-parse --verify --quiet {{ ref }}'^{commit}') || { echo {{ ref }}' is no branch, tag or commit of '{{ repository }} >&2; exit 1; }
release=$(date -u +%Y%m%dT%H%M%S.%3NZ)-$(printf %.7s "$commit")
mkdir -p "releases/.$release"
git -C repo archive "$commit" | tar -x -C "releases/.$release"
printf '%s\n%s\n' "$commit" {{ ref }} > "releases/.$release/.knit-release"
{% for file in shared_files %}ln -sfn {{ app_dir }}/shared/{{ file }} "releases/.$release/"{{ file }}
{% endfor %}
{%- if build %}(cd "releases/.$release" && set -a && . {{ app_dir }}/shared/knit.env && set +a && {{ build|safe }})
{% endif -%}
mv "releases/.$release" "releases/$release"
ln -sfn "releases/$release" current.new && mv -T current.new current
ls -1 releases | sort -r | tail -n +{{ keep_releases + 1 }} | while read -r old; do rm -rf "releases/$old"; done
echo "::knit-output release=$release"
echo "::knit-output commit=$commit"
echo ::knit-output ref={{ ref }}
