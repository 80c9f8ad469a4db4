#!/usr/bin/env bash
# The README's test command: installs whatever is missing, then runs every test of the
# workspace. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --locked
