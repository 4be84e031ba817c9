#!/usr/bin/env bash
# Runs every test of virt-squeeze, installing what the tests need first (as root on Debian):
# the Debian packages listed in scripts/deps/*.list and the npm dependencies.
# Usage: bash scripts/test.sh [vitest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
start_s=$SECONDS

missing=()
for pkg in $(cat scripts/deps/*.list 2>/dev/null | sed 's/#.*//' | tr -s ' \n' '\n' | sort -u); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test.sh: installing npm dependencies"
  # npm install, not npm ci: the registry mirror here lacks other platforms' optional packages
  # (e.g. @rollup/rollup-android-*), which npm ci insists on finding in the lock file.
  npm install --no-audit --no-fund
fi

echo "test.sh: build, lint, format"
npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check >/dev/null || { npm run --silent format:check; exit 1; }

echo "test.sh: tests"
mkdir -p .test-results
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@"
rc=$?
set -e
node -e '
  const r = require("./.test-results/vitest.json");
  console.log(`virt-squeeze tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' || true
echo "test.sh: finished in $((SECONDS - start_s)) s (exit $rc)"
exit $rc
