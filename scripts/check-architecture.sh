#!/usr/bin/env bash
# scripts/check-architecture.sh: the crate-graph invariants of ARCHITECTURE.md, from
# `cargo tree` (normal dependencies, this machine's target). Prints one line per rule and
# fails if any is broken. Part of the README's test command (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
# The crates (package names) a build of `cargo tree ARGS...` links; a `cargo tree` that fails
# (an unknown package or feature) stops the script, so no rule passes unchecked.
crates_of() {
  local tree
  tree=$(cargo tree --locked -e normal --prefix none "$@") || { echo "cargo tree $* failed" >&2; exit 1; }
  [[ -n $tree ]] || { echo "cargo tree $* printed nothing" >&2; exit 1; }
  sed 's/ .*//' <<<"$tree" | sort -u
}
# forbid LABEL "CARGO TREE ARGS" CRATE...: none of CRATE may be in the build.
forbid() {
  local label=$1 args=$2 crates found; shift 2
  # shellcheck disable=SC2086 # ARGS is a word list on purpose
  crates=$(crates_of $args) || exit 1
  found=$(grep -xF -f <(printf '%s\n' "$@") <<<"$crates" || true)
  if [[ -z $found ]]; then echo "  ok    $label"; else echo "  FAIL  $label: links $(echo $found)"; failed=1; fi
}
# require LABEL "CARGO TREE ARGS" CRATE: the rule's own sanity check (the crate must be found
# where it belongs, so an empty result above means the rule looked in the right place).
require() {
  local label=$1 args=$2 crate=$3 crates
  # shellcheck disable=SC2086
  crates=$(crates_of $args) || exit 1
  if grep -qxF "$crate" <<<"$crates"; then echo "  ok    $label"; else echo "  FAIL  $label"; failed=1; fi
}

host_side=(motus-lab motus-quant motus-train tch torch-sys)
forbid "motus-device never links host code" "-p motus-device --all-features" "${host_side[@]}"
forbid "the board's motus (--no-default-features --features v4l) never links host code" \
  "-p motus --no-default-features --features v4l" "${host_side[@]}"
forbid "motus-core depends on no other motus crate but the model contract" "-p motus-core --all-features" \
  motus-device motus-lab motus-quant motus-train motus tch torch-sys
forbid "only the trainer links libtorch (motus-lab)" "-p motus-lab" tch torch-sys
forbid "only the trainer links libtorch (the workstation's motus)" "-p motus" tch torch-sys
require "the check sees host code where it belongs: the workstation's motus links motus-lab" "-p motus" motus-lab
require "the check sees libtorch where it belongs: motus-train links tch" "-p motus-train" tch
require "the board's build is what the rule above read: it links motus-device" \
  "-p motus --no-default-features --features v4l" motus-device

[[ $failed == 0 ]] && echo "architecture: every invariant holds" || { echo "architecture: invariants broken (ARCHITECTURE.md)"; exit 1; }
