{#- What the run would change in the app, changing nothing: the live commit and the one it
    puts live (`ref`'s, asked of the repository, or for a rollback its target release's), the
    commits between (from the host's mirror, as the last deploy fetched it) and the migrations
    it adds or takes back (`migration_files`). -#}
cd {{ app_dir }} 2>/dev/null || { echo "not installed: "{{ app_dir }}" is missing"; exit 0; }
live=$(head -n 1 current/.knit-release 2>/dev/null) || live=""
if [ ! -d repo ]; then echo "nothing deployed yet: the first deploy clones "{{ repository }}; exit 0; fi
{% if scenario == "rollback" -%}
{% include "app/target.sh" %}
new=$(head -n 1 "releases/$target/.knit-release")
what="release $target"
{%- else -%}
ref={{ ref }}
[ -n "$ref" ] || ref=$(git -C repo symbolic-ref --short HEAD)
new=$(git -C repo ls-remote origin "refs/heads/$ref" "refs/tags/$ref" "refs/tags/$ref^{}" | sort -k 2 -r | awk 'NR == 1 { print $1 }')
[ -n "$new" ] || new=$(git -C repo rev-parse --verify --quiet "$ref^{commit}") || { echo "$ref is no branch, tag or commit of "{{ repository }}; exit 0; }
what="$ref"
{%- endif %}
short() { printf %.7s "$1"; }
if [ -z "$live" ]; then echo "commit: $(short "$new") ($what), nothing live yet"; exit 0; fi
if [ "$live" = "$new" ]; then echo "commit: $(short "$new") ($what) is live already"; exit 0; fi
echo "commit: $(short "$live") -> $(short "$new") ($what)"
if ! git -C repo cat-file -e "$new^{commit}" 2>/dev/null; then
  echo "commits: the host's mirror has not fetched $(short "$new") yet (the run fetches it)"
  exit 0
fi
git -C repo log --format='commit added: %h %s (%an, %ad)' --date=short "$live..$new"
git -C repo log --format='commit taken back: %h %s (%an, %ad)' --date=short "$new..$live"
{% if migration_files -%}
git -C repo diff --name-status --no-renames "$live" "$new" -- {{ migration_files|words }} | while read -r change path; do
  case "$change" in
    A) echo "migration added: $path" ;;
    D) echo "migration taken back: $path" ;;
    *) echo "migration changed: $path" ;;
  esac
done
{%- endif %}
