set -e
cd {{ app_dir }}
now=$(readlink current | sed 's|^releases/||')
target={{ release }}
case "$target" in */* | .*) echo "$target is not the name of a release folder" >&2; exit 1 ;; esac
[ -n "$target" ] || target=$(ls -1 releases | sort | awk -v now="$now" '$0 < now' | tail -n 1)
if [ -z "$target" ] || [ ! -d "releases/$target" ]; then echo "no release ${target:-before $now} to go back to; kept: $(ls -1 releases | tr '\n' ' ')" >&2; exit 1; fi
ln -sfn "releases/$target" current.new && mv -T current.new current
echo "::knit-output release=$target"
echo "::knit-output commit=$(sed -n 1p "releases/$target/.knit-release")"
echo "::knit-output ref=$(sed -n 2p "releases/$target/.knit-release")"
