# Sourced by the scripts in .ci/: where knit's tools and caches live, outside the clone so they
# survive fresh clones. Nothing here is needed for correctness; deleting $KNIT_CACHE only costs time.
: "${KNIT_CACHE:=$HOME/.cache/knit}"
: "${CARGO_TARGET_DIR:=$KNIT_CACHE/target}"
: "${KNIT_MOTO_SERVER:=$KNIT_CACHE/venv/bin/moto_server}"
: "${KNIT_SCHEMATHESIS:=$KNIT_CACHE/venv/bin/schemathesis}"
export KNIT_CACHE CARGO_TARGET_DIR KNIT_MOTO_SERVER KNIT_SCHEMATHESIS
export PATH="$KNIT_CACHE/tools/bin:$KNIT_CACHE/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
