#!/usr/bin/env bash
# The whole test suite, set-up included: system packages, npm dependencies,
# the build, then node's test runner over unit, end-to-end, aarch64 and
# PostgreSQL-matrix tests. `scripts/test.sh aarch64` runs only the aarch64
# suite, `scripts/test.sh matrix` only the matrix (13 to 19, a hot standby:
# the majors other than the host's are fetched once by scripts/pg-versions.sh
# into PLRUST_PG_VERSIONS_ROOT, default /var/tmp/plrust-pg-versions).
# `scripts/test.sh isolation` runs only test/isolation: the SQL, fault, SPI,
# set-returning, trigger and composite suites again with plrust.isolation = process
# (docs/ISOLATION.md), every function in a runner process.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
# The house rules (types, lint, format) before anything slow runs.
npm run lint --silent

# Expensive artefacts (the std sysroots of the shared test toolchain) are
# built once per run into this directory and reused by every test file.
if [[ -z "${PLRUST_TEST_CACHE:-}" ]]; then
  PLRUST_TEST_CACHE=$(mktemp -d /tmp/plrust-test-run.XXXXXX)
  trap 'rm -rf "$PLRUST_TEST_CACHE"' EXIT
  # The test servers run as the postgres OS user and read the shared toolchain
  # in place; mktemp's 0700 would make every install copy it instead.
  chmod 755 "$PLRUST_TEST_CACHE"
fi
export PLRUST_TEST_CACHE

case "${1:-all}" in
  aarch64) suites=(dist/test/aarch64) ;;
  matrix) suites=(dist/test/matrix) ;;
  isolation) suites=(dist/test/isolation) ;;
  all) suites=(dist/test/unit dist/test/e2e dist/test/aarch64 dist/test/matrix dist/test/isolation) ;;
  *) echo "usage: scripts/test.sh [all|aarch64|matrix|isolation]" >&2; exit 2 ;;
esac

files=()
for s in "${suites[@]}"; do
  [[ -d "$s" ]] && while IFS= read -r f; do files+=("$f"); done < <(find "$s" -name '*.test.js' | sort)
done
# One runner invocation, so the run ends with one summary. Test files run one
# at a time: they share two cores and a handful of PostgreSQL clusters.
exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
