#!/usr/bin/env bash
# Installs the dotenv readers the export round-trip test reads `--format dotenv` back with,
# besides the Rust crate `dotenvy`: python-dotenv (pip) and node's `dotenv` (npm), into a
# cache outside the repository, and prints the cache's path.
#
#   DOTENV_READERS=$(scripts/dotenv-readers.sh) cargo test -p secret-tests --test suite export_dotenv::
#
# The cache is $SECRETS_TOOLKIT_CACHE (default ~/.cache/secrets-toolkit)/dotenv-readers:
# python/ (a pip --target folder) and node/ (an npm --prefix folder). The test finds it
# through DOTENV_READERS, else at that default path; with CI=true a missing reader fails it.
set -euo pipefail
cache="${SECRETS_TOOLKIT_CACHE:-$HOME/.cache/secrets-toolkit}/dotenv-readers"
mkdir -p "$cache/python" "$cache/node"
if [ ! -d "$cache/python/dotenv" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$cache/python" \
        'python-dotenv==1.*' >&2
fi
if [ ! -d "$cache/node/node_modules/dotenv" ]; then
    npm install --silent --no-audit --no-fund --prefix "$cache/node" 'dotenv@16' >&2
fi
PYTHONPATH="$cache/python" python3 -c 'import dotenv' >&2
NODE_PATH="$cache/node/node_modules" node -e 'require("dotenv")' >&2
echo "$cache"
