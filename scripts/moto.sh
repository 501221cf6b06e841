#!/usr/bin/env bash
# Installs moto's server (PyPI `moto[server]`, a local AWS endpoint) for the AWS Secrets
# Manager tests, into a virtual environment in a cache outside the repository, and prints
# the path of its `moto_server`.
#
#   scripts/moto.sh               # install if missing, print moto_server's path
#   MOTO_SERVER=$(scripts/moto.sh) cargo test -p secret-tests --features aws --test suite aws_sync:: -- --ignored
#
# The cache is $SECRETS_TOOLKIT_CACHE (default ~/.cache/secrets-toolkit)/moto. The tests find
# the program through MOTO_SERVER, else at the path this script prints.
set -euo pipefail
cache="${SECRETS_TOOLKIT_CACHE:-$HOME/.cache/secrets-toolkit}/moto"
bin="$cache/venv/bin/moto_server"
if [ ! -x "$bin" ]; then
    mkdir -p "$cache"
    python3 -m venv "$cache/venv" >&2
    "$cache/venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]' >&2
fi
if [ ! -x "$bin" ]; then
    echo "error: moto[server] installed in $cache/venv but no \`moto_server\` was found in it" >&2
    exit 1
fi
"$cache/venv/bin/python" -c 'import moto; print("moto", moto.__version__)' >&2
echo "$bin"
