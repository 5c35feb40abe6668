{#- Sets $now (the live release) and $target (the one to go back to: `release`, or the one
    before the live one), or fails saying what is kept. -#}
now=$(readlink current | sed 's|^releases/||')
target={{ release }}
case "$target" in */* | .*) echo "$target is not the name of a release folder" >&2; exit 1 ;; esac
[ -n "$target" ] || target=$(ls -1 releases | sort | awk -v now="$now" '$0 < now' | tail -n 1)
if [ -z "$target" ] || [ ! -d "releases/$target" ]; then echo "no release ${target:-before $now} to go back to; kept: $(ls -1 releases | tr '\n' ' ')" >&2; exit 1; fi
