#!/usr/bin/env bash
# Installs the npm packages of the JS end-to-end tests (AWS SDK for JavaScript v3, aws-lambda-ric)
# from the committed lock file. Quick when they are already installed for this lock file.
set -euo pipefail
cd "$(dirname "$0")/../tests/js"
stamp=node_modules/.lambent-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
echo "install-js-deps: npm ci in tests/js (builds aws-lambda-ric's native client)" >&2
npm ci --no-audit --no-fund
echo "$want" > "$stamp"
