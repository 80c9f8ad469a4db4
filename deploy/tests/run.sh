#!/usr/bin/env bash
# deploy/tests/run.sh [HOST_MOTUS]: the deployment tests, called by scripts/test.sh.
#   1. the aarch64 build with the host tools (MOTUS_FEATURES=lab deploy/build-aarch64) under
#      qemu-user: `motus eval` on synthetic videos, whose JSON must equal the x86_64 binary's
#      (HOST_MOTUS, default target/debug/motus), for the bundled model and its int8 version
#   2. the device binary (deploy/build-aarch64: cargo-zigbuild, glibc 2.31 floor, features v4l,
#      no host tools) and the glibc check; under qemu-user: --version, info on the bundled
#      model, the shipped config through `motus run --check`, and no host tool inside
#   3. deploy/package for arm64 and amd64; the arm64 package installed into a scratch root
#      (dpkg --root, maintainer scripts chrootless), checked, purged; systemd-analyze verify
#      on the installed unit
#   4. deploy/tests/flash.sh: deploy/flash over a real sshd with rollback
# Prints one line per check and `deploy: N passed, M failed`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
target_dir=${CARGO_TARGET_DIR:-target}
host_motus=$(realpath "${1:-$target_dir/debug/motus}")
[[ -x $host_motus ]] || { echo "deploy tests: no host motus at $host_motus (cargo build -p motus)" >&2; exit 1; }
arm="$target_dir/aarch64-unknown-linux-gnu/release/motus"
model=models/zoo/motus-synth-twostream.onnx
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
passed=0 failed=0
ok() { echo "  ok    $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $*"; failed=$((failed + 1)); }
check() { # label command...
  local label=$1; shift
  if "$@" >"$t/out" 2>&1; then ok "$label"; else bad "$label"; sed 's/^/        /' "$t/out" | tail -30; fi
}
step() { echo "deploy: $* ($(date +%T))"; }

step "aarch64 with the host tools"
s=$(date +%s)
check "MOTUS_FEATURES=lab deploy/build-aarch64" env MOTUS_FEATURES=lab deploy/build-aarch64
echo "        $(tail -1 "$t/out")"
echo "        took $(( $(date +%s) - s )) s"
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
[[ -x /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || bad "no aarch64 glibc at /usr/aarch64-linux-gnu (apt-get install libc6-arm64-cross)"
"$host_motus" synth --out "$t/synth" --videos-per-class 1 --seed 5 --splits 0,0,100 >/dev/null
s=$(date +%s)
check "qemu: motus eval on $(wc -l < "$t/synth/test.txt") synthetic videos" \
  sh -c "${qemu[*]} $arm eval --model $model --data $t/synth --json --workers 2 > $t/eval-arm.json"
echo "        took $(( $(date +%s) - s )) s under qemu"
check "x86_64: motus eval on the same videos" sh -c "$host_motus eval --model $model --data $t/synth --json --workers 2 > $t/eval-x86.json"
check "eval: aarch64 (qemu) and x86_64 agree" python3 deploy/tests/compare_eval.py "$t/eval-x86.json" "$t/eval-arm.json"
echo "        $(tail -1 "$t/out")"
# The int8 model (motus quant's qoperator form) on the same videos: tract's integer kernels
# for aarch64 against the x86_64 ones.
int8=models/zoo/motus-synth-twostream.int8.onnx
check "qemu: motus eval of the int8 model" \
  sh -c "${qemu[*]} $arm eval --model $int8 --data $t/synth --json --workers 2 > $t/eval8-arm.json"
check "x86_64: motus eval of the int8 model" sh -c "$host_motus eval --model $int8 --data $t/synth --json --workers 2 > $t/eval8-x86.json"
check "eval: the int8 model agrees on aarch64 (qemu) and x86_64" python3 deploy/tests/compare_eval.py "$t/eval8-x86.json" "$t/eval8-arm.json"
echo "        $(tail -1 "$t/out")"


step "aarch64 device binary"
s=$(date +%s)
check "deploy/build-aarch64" deploy/build-aarch64
echo "        $(tail -1 "$t/out")"
echo "        took $(( $(date +%s) - s )) s"
check "no glibc symbol newer than 2.31 (objdump -T)" deploy/check-glibc "$arm" 2.31
echo "        $(tail -1 "$t/out")"

rc=0; deploy/check-glibc "$arm" 2.17 >"$t/out" 2>&1 || rc=$?
[[ $rc != 0 ]] && grep -q "newer than the floor 2.17" "$t/out" && ok "check-glibc refuses the same binary against a 2.17 floor, naming the symbols" || bad "check-glibc accepted a 2.17 floor"
rc=0; deploy/check-glibc "$t/nope" >"$t/out" 2>&1 || rc=$?
[[ $rc != 0 ]] && grep -q "$t/nope: no such file" "$t/out" && ok "check-glibc: a missing binary is named" || bad "check-glibc: missing binary not reported"
rc=0; MOTUS_GLIBC=two deploy/build-aarch64 >"$t/out" 2>&1 || rc=$?
[[ $rc != 0 ]] && grep -q "MOTUS_GLIBC=two: expected a glibc version" "$t/out" && ok "build-aarch64 refuses a bad MOTUS_GLIBC" || bad "build-aarch64 accepted MOTUS_GLIBC=two"

step "aarch64 under qemu-user"
check "qemu: motus --version" "${qemu[@]}" "$arm" --version
want="motus $(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"
[[ $(cat "$t/out") == "$want" ]] && ok "qemu: --version prints '$want'" || bad "qemu: --version printed '$(cat "$t/out")', expected '$want'"
check "qemu: motus info on the bundled model" "${qemu[@]}" "$arm" info "$model" --json
"$host_motus" info "$model" --json > "$t/info-x86.json"
"${qemu[@]}" "$arm" info "$model" --json > "$t/info-arm.json"
check "qemu: info JSON equals the x86_64 binary's" cmp "$t/info-x86.json" "$t/info-arm.json"
check "qemu: the packaged config passes motus run --check (v4l2 source, bundled model)" \
  "${qemu[@]}" "$arm" run --config deploy/debian/motus.toml --model "$model" --check
rc=0; "${qemu[@]}" "$arm" eval --model "$model" --data "$t/synth" >"$t/out" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "unrecognized subcommand 'eval'" "$t/out" && ok "qemu: the device binary has no host tools (motus eval is not a command)" || bad "qemu: the device binary ran motus eval (rc $rc): host code shipped"

step "packages"
check "deploy/package --arch arm64" sh -c "deploy/package --arch arm64 --out $t/deb > $t/arm64.path"
check "deploy/package --arch amd64 (the host binary)" sh -c "deploy/package --arch amd64 --binary $host_motus --out $t/deb > $t/amd64.path"
check "deploy/package --arch amd64 --version 0.0.0+rollback (a second version for the flash test)" \
  sh -c "deploy/package --arch amd64 --binary $host_motus --version 0.0.0+rollback --out $t/deb > $t/amd64-old.path"
arm_deb=$(cat "$t/arm64.path") amd_deb=$(cat "$t/amd64.path") old_deb=$(cat "$t/amd64-old.path")
dpkg-deb -c "$arm_deb" > "$t/contents"
for f in ./usr/bin/motus ./usr/share/motus/models/motus-synth-twostream.onnx ./etc/motus/motus.toml \
         ./lib/systemd/system/motus.service ./usr/lib/sysusers.d/motus.conf ./usr/share/doc/motus/jetson.md; do
  grep -q " $f\$" "$t/contents" && ok "arm64 package has $f" || bad "arm64 package lacks $f"
done
[[ $(dpkg-deb -f "$arm_deb" Architecture) == arm64 ]] && ok "arm64 package: Architecture arm64" || bad "arm64 package: Architecture $(dpkg-deb -f "$arm_deb" Architecture)"
rc=0; deploy/package --arch arm64 --binary "$host_motus" --out "$t/deb" >/dev/null 2>"$t/out" || rc=$?
[[ $rc != 0 ]] && grep -q "is not an arm64 executable" "$t/out" && ok "package refuses an x86_64 binary for arm64" || bad "package accepted a wrong-architecture binary"
rc=0; deploy/package --arch arm64 --binary "$t/nope" --out "$t/deb" >/dev/null 2>"$t/out" || rc=$?
[[ $rc != 0 ]] && grep -q "no binary at $t/nope" "$t/out" && ok "package: a missing binary is named" || bad "package: missing binary not reported"

step "scratch-root install"
r="$t/root"
mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/etc"
touch "$r/var/lib/dpkg/status"
dpkg --root="$r" --add-architecture arm64
check "dpkg --root: install the arm64 package (scripts chrootless)" \
  dpkg --root="$r" --force-script-chrootless --force-depends -i "$arm_deb"
[[ $(dpkg-query --root="$r" -W -f='${Status}' motus) == "install ok installed" ]] && ok "dpkg: motus is installed and configured" || bad "dpkg status: $(dpkg-query --root="$r" -W -f='${Status}' motus)"
[[ -x $r/usr/bin/motus ]] && ok "/usr/bin/motus installed" || bad "/usr/bin/motus missing"
grep -q '^/etc/motus/motus.toml ' <(dpkg-query --root="$r" -W -f='${Conffiles}\n' motus | sed 's/^ //') \
  && ok "/etc/motus/motus.toml is a conffile" || bad "/etc/motus/motus.toml is not registered as a conffile"
mode=$(stat -c '%a %g' "$r/etc/motus/motus.toml") gid=$(awk -F: '$1 == "motus" { print $3 }' "$r/etc/group")
[[ $mode == "640 $gid" ]] && ok "postinst: the config is 0640, group motus" || bad "postinst: the config is mode/group $mode (want 640 $gid)"
cmp -s "$r/var/lib/motus-deploy/models/model.onnx" "$model" && ok "postinst seeded the live model" || bad "postinst did not seed /var/lib/motus-deploy/models/model.onnx"
grep -q '^motus:' "$r/etc/passwd" && grep -q '^video:.*motus' "$r/etc/group" && ok "postinst: user motus in group video" || bad "postinst: user motus / group video missing"
[[ -L $r/etc/systemd/system/multi-user.target.wants/motus.service ]] && ok "postinst: motus.service enabled" || bad "postinst: motus.service not enabled"
# verify resolves the unit's dependencies (sysinit.target, …) under the root: lend it this
# machine's unit files, beside the package's own.
cp -an /lib/systemd/system/. "$r/lib/systemd/system/"
if systemd-analyze verify --root="$r" motus.service >"$t/out" 2>&1 && [[ ! -s $t/out ]]; then
  ok "systemd-analyze verify: no error, no warning"
else
  bad "systemd-analyze verify"; sed 's/^/        /' "$t/out"
fi
check "systemd-analyze security: exposure at most 3.0" systemd-analyze security --offline=yes --root="$r" --threshold=30 motus.service
echo "        $(grep -a 'Overall exposure' "$t/out")"
check "qemu: the installed binary checks the installed config" \
  "${qemu[@]}" "$r/usr/bin/motus" run --config "$r/etc/motus/motus.toml" --model "$r/var/lib/motus-deploy/models/model.onnx" --check
check "dpkg --root: purge" dpkg --root="$r" --force-script-chrootless -P motus
[[ ! -e $r/usr/bin/motus && ! -e $r/etc/motus/motus.toml && ! -e $r/var/lib/motus-deploy ]] \
  && ok "purge removed the binary, the config and the flashed models" || bad "purge left files: $(ls "$r/usr/bin" "$r/etc/motus" "$r/var/lib" 2>&1 | tr '\n' ' ')"

step "flash over SSH"
if deploy/tests/flash.sh "$old_deb" "$amd_deb" > "$t/flash.out" 2>&1; then r=0; else r=$?; fi
sed 's/^/  /' "$t/flash.out"
fp=$(sed -n 's/^flash: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$t/flash.out")
if [[ -n $fp ]]; then
  read -r fpass ffail <<<"$fp"
  passed=$((passed + fpass)) failed=$((failed + ffail))
fi
((r == 0)) || [[ -n $fp && $ffail != 0 ]] || bad "flash test stopped before its end (exit $r)"

echo "deploy: $passed passed, $failed failed"
((failed == 0))
