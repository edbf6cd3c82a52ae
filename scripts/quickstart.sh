#!/usr/bin/env bash
# Quick start, first command: every set-up step, then the main job end to
# end — install the toolchain, build the examples, install PL/Rust into a
# throwaway local PostgreSQL cluster, create and run the example functions.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

plrust=./bin/plrust
$plrust doctor --pg-config "$(ls -d /usr/lib/postgresql/*/bin/pg_config | sort -V | tail -n 1)"
$plrust toolchain install
$plrust build examples/math.rs examples/strings.sql
$plrust sandbox run target/plrust/functions.sql examples/demo.sql
$plrust sandbox status
