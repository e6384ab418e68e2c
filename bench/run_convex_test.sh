#!/usr/bin/env bash
# Run Convex's own JS mock (convex-test) benchmark from the shared anchor.
#
# Usage: bench/run_convex_test.sh [N]        (N defaults to 1000)
#   CONVEX_TEST_DIR  cache/work dir (default /tmp/convex-test-anchor)
#   CONVEX_TEST_ANCHOR  the anchor folder (default ../shared/anchors/convex-test beside the checkout)
#
# stdout: only the line "BENCH N=<N> {json of phase -> ms}"
# stderr: npm / vitest output
set -euo pipefail

N="${1:-1000}"
if ! [[ "$N" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [N]  (N must be a positive integer, got '$N')" >&2
  exit 2
fi

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"
anchor="${CONVEX_TEST_ANCHOR:-$repo_root/../shared/anchors/convex-test}"
if [[ ! -f "$anchor/package.json" ]]; then
  echo "anchor not found: $anchor" >&2
  exit 1
fi
anchor="$(cd "$anchor" && pwd)"

work="${CONVEX_TEST_DIR:-/tmp/convex-test-anchor}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

# Refresh the sources from the anchor on every run, keeping node_modules.
# The anchor is read-only and cp keeps the modes, hence the chmod.
find "$work" -mindepth 1 -maxdepth 1 ! -name node_modules -exec chmod -R u+w {} + -exec rm -rf {} +
cp -r "$anchor/." "$work/"
find "$work" -path "$work/node_modules" -prune -o -exec chmod u+w {} +

cd "$work"

# Install only if node_modules is missing (or was installed for another package.json).
stamp="node_modules/.anchor-package.json"
if [[ ! -d node_modules ]] || ! cmp -s package.json "$stamp"; then
  echo "[run_convex_test] npm install in $work" >&2
  npm install --no-audit --no-fund >&2
  cp package.json "$stamp"
fi

log="$(mktemp "${TMPDIR:-/tmp}/convex-test-bench.XXXXXX")"
trap 'rm -f "$log"' EXIT

status=0
BENCH_N="$N" NO_COLOR=1 ./node_modules/.bin/vitest run --config vitest.bench.config.mts \
  >"$log" 2>&1 || status=$?
cat "$log" >&2

# Strip any ANSI escapes; vitest may prefix the console.log line with them.
line="$(sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | grep -oE 'BENCH N=[0-9]+ \{.*\}' | tail -n 1 || true)"
if [[ $status -ne 0 || -z "$line" ]]; then
  echo "[run_convex_test] benchmark failed (vitest exit $status${line:+}${line:-, no BENCH line})" >&2
  exit $(( status != 0 ? status : 1 ))
fi
echo "$line"
