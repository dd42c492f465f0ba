#!/usr/bin/env bash
# Installs the npm packages Lambent uses from the committed lock files: the AWS SDK for
# JavaScript v3 clients preinstalled for nodejs*.x functions (runtimes/node, mounted at
# /var/runtime/node_modules), the web console's build (console/), and the JS end-to-end tests' (the
# SDK, aws-lambda-ric). Quick when they are already installed for these lock files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
install() {  # DIR [npm ci options]
  local dir=$1
  shift
  cd "$root/$dir"
  local stamp=node_modules/.lambent-lock-sha
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  echo "install-js-deps: npm ci in $dir" >&2
  npm ci --no-audit --no-fund "$@"
  echo "$want" > "$stamp"
}
install runtimes/node --omit=dev
install console  # the web console's build (esbuild, TypeScript) and the SDK it bundles
install tests/js  # builds aws-lambda-ric's native client
