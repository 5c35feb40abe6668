{#- Puts this run's prepared release live (a new link renamed over the old), then removes the
    releases beyond keep_releases. -#}
set -e
cd {{ app_dir }}
release=
for made in releases/{{ run_stamp }}-*; do
  if [ -d "$made" ]; then release=${made#releases/}; fi
done
if [ -z "$release" ]; then echo "this run prepared no release: prepare (or update) comes before switch" >&2; exit 1; fi
ln -sfn "releases/$release" current.new && mv -T current.new current
ls -1 releases | sort -r | tail -n +{{ keep_releases + 1 }} | while read -r old; do
  if [ "$old" != "$release" ]; then rm -rf "releases/$old"; fi
done
echo "::knit-output release=$release"
echo "::knit-output commit=$(sed -n 1p "releases/$release/.knit-release")"
echo "::knit-output ref=$(sed -n 2p "releases/$release/.knit-release")"
