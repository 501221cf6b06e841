#!/usr/bin/env bash
# Re-creates the example workspace's store (examples/secrets.enc.toml) with a new identity
# that is thrown away at the end, so nobody can read its values, and its secrets.toml
# recipients to match. Run it when the store format changes; commit the two files.
#
#   scripts/example-store.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The identity goes to a throwaway home folder: keep rustup's and cargo's own.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ws"
printf '[workspace]\nmembers = []\n' > "$work/ws/Cargo.toml"
# A new identity, in a home folder that is deleted on exit.
HOME="$work" cargo xtask secret init --workspace "$work/ws" >/dev/null
identity="$work/.config/secrets/identity.txt"
new_key="$(grep -o 'age1[02-9ac-hj-np-z]\{58\}' "$work/ws/secrets.toml" | head -1)"
old_keys="$(grep -o 'age1[02-9ac-hj-np-z]\{58\}' examples/secrets.toml | sort -u)"
for old in $old_keys; do
    sed -i "s/$old/$new_key/g" examples/secrets.toml
done
rm -f examples/secrets.enc.toml
set_value() { # TYPES NAME
    head -c 24 /dev/urandom | base64 | HOME="$work" SECRETS_IDENTITY="$identity" \
        cargo xtask secret set --workspace examples --type "$1" "$2" >/dev/null
}
set_value dev,pr,local GitHubAPIToken
set_value prod GitHubAPIToken
set_value pr,local SlackWebhookURL
set_value prod SlackWebhookURL
set_value dev,pr,local WebhookSigningKey
set_value prod WebhookSigningKey
echo "examples/secrets.enc.toml re-created, encrypted to and signed by $new_key (now discarded)"
