# Makes the demo app's repository, with releases v1 and v2 tagged, unless it exists. Run on a
# sandbox host as its account, with the repository's path as $1 and app.py on standard input.
set -e
repo=$1
if [ -d "$repo" ]; then echo "kept $repo"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/app.py"
cd "$work"
git init -q -b main
git config user.name "knit sandbox"
git config user.email "sandbox@knit.invalid"
for release in v1 v2; do
  echo "$release" > RELEASE
  git add app.py RELEASE
  git commit -q -m "Demo app $release"
  git tag "$release"
done
mkdir -p "$(dirname "$repo")"
git clone -q --bare "$work" "$repo"
echo "made $repo with releases v1 and v2"
