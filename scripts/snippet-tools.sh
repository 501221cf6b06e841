#!/usr/bin/env bash
# Installs what the documentation test (tests/tests/doc_snippets.rs) checks code blocks with,
# besides cargo, toml-span and `sh -n`: the PyPI package `dockerfile` (Docker's own BuildKit
# parser) and PyYAML, into a cache outside the repository, and prints the cache's path.
#
#   SNIPPET_TOOLS=$(scripts/snippet-tools.sh) cargo test -p secret-tests --test suite doc_snippets::
#
# The cache is $SECRETS_TOOLKIT_CACHE (default ~/.cache/secrets-toolkit)/snippet-tools, a pip
# --target folder under python/. The test finds it through SNIPPET_TOOLS, else at that
# default path; with CI=true a missing tool fails it.
set -euo pipefail
cache="${SECRETS_TOOLKIT_CACHE:-$HOME/.cache/secrets-toolkit}/snippet-tools"
mkdir -p "$cache/python"
if ! PYTHONPATH="$cache/python" python3 -c 'import dockerfile, yaml' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$cache/python" \
        'dockerfile==3.*' 'pyyaml==6.*' >&2
fi
PYTHONPATH="$cache/python" python3 -c 'import dockerfile, yaml' >&2
echo "$cache"
