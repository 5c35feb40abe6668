set -e
cd {{ app_dir }}
{% include 'app/target.sh' %}
ln -sfn "releases/$target" current.new && mv -T current.new current
echo "::knit-output release=$target"
echo "::knit-output commit=$(sed -n 1p "releases/$target/.knit-release")"
echo "::knit-output ref=$(sed -n 2p "releases/$target/.knit-release")"
