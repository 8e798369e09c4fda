#!/usr/bin/env bash
# Installs the pinned dependencies (npm ci) and runs node-oidc-provider as an interop target.
#   run.sh MODE PORT [INTERACTION_URLS]
#   MODE: plain | obo       INTERACTION_URLS: split (default) | shared
# Prints http://127.0.0.1:PORT on stdout once it accepts connections; stops on SIGTERM/SIGINT.
set -euo pipefail
mode=${1:?usage: run.sh plain|obo PORT [split|shared]}
port=${2:?usage: run.sh plain|obo PORT [split|shared]}
urls=${3:-split}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -d node_modules/oidc-provider ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
OBO_MODE=$mode PORT=$port INTERACTION_URLS=$urls exec node server.mjs
