#!/usr/bin/env bash
# deploy/tests/flash.sh DEB_V1 DEB_V2: deploy/flash end to end against a real sshd on loopback
# (Debian's openssh-server, started here on a free high port with its own host key and a
# client key authorised only for this run) into a scratch root. Both packages must be amd64
# (this machine runs what they install) and differ in version.
#
# No systemd runs as PID 1 here, so the restart command only records that it ran, and the
# health check is `motus run --check` of the installed binary on the installed config and the
# live model (with the synthetic source: the test binary may lack the v4l feature).
# Prints one line per check and `flash: N passed, M failed`; exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
deb1=$(realpath "${1:?usage: flash.sh DEB_V1 DEB_V2}") deb2=$(realpath "${2:?usage: flash.sh DEB_V1 DEB_V2}")
flash="$repo/deploy/flash"
model="$repo/models/zoo/motus-synth-twostream.onnx"
sshd=$(command -v sshd || echo /usr/sbin/sshd)
[[ -x $sshd ]] || { echo "flash test: sshd not found (apt-get install openssh-server)" >&2; exit 1; }

t=$(mktemp -d)
pid=""
cleanup() { [[ -z $pid ]] || kill "$pid" 2>/dev/null || true; rm -rf "$t"; }
trap cleanup EXIT
passed=0 failed=0
ok() { echo "  ok    $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $*"; failed=$((failed + 1)); }

# --- sshd on 127.0.0.1:PORT ----------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$t/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$t/client_key"
cp "$t/client_key.pub" "$t/authorized_keys"; chmod 600 "$t/authorized_keys"
mkdir -p /run/sshd
cat > "$t/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $port
HostKey $t/host_key
PidFile $t/sshd.pid
AuthorizedKeysFile $t/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
CFG
"$sshd" -D -e -f "$t/sshd_config" 2>"$t/sshd.log" &
pid=$!
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$t/host_key.pub")" > "$t/known_hosts"
cat > "$t/ssh_config" <<CFG
Host board
  HostName 127.0.0.1
  Port $port
  User $(id -un)
  IdentityFile $t/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $t/known_hosts
  StrictHostKeyChecking yes
  LogLevel ERROR
CFG
for _ in $(seq 50); do
  ssh -F "$t/ssh_config" -o BatchMode=yes -o ConnectTimeout=2 board true 2>/dev/null && break
  sleep 0.2
done

# --- the scratch root: an empty dpkg database ----------------------------------------------
root="$t/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
live="$root/var/lib/motus-deploy/models/model.onnx"
restart='echo restarted >> "$MOTUS_ROOT/restarts"'
health='"$MOTUS_ROOT/usr/bin/motus" run --config "$MOTUS_ROOT/etc/motus/motus.toml" --model "$MOTUS_MODEL" --source synthetic --check'
run_flash() { # expected-exit label args...
  local want=$1 label=$2; shift 2
  local rc=0
  "$flash" --ssh-config "$t/ssh_config" --root "$root" --dpkg-option --force-depends \
    --restart "$restart" --health "$health" "$@" board >"$t/out" 2>&1 || rc=$?
  if [[ $rc == "$want" ]]; then ok "$label (exit $rc)"; else bad "$label: exit $rc, expected $want"; sed 's/^/        /' "$t/out"; fi
}
expect_in_out() { if grep -q -- "$1" "$t/out"; then ok "$2"; else bad "$2: output lacks '$1'"; sed 's/^/        /' "$t/out"; fi; }
version() { dpkg-query --root="$root" -W -f='${Version}' motus 2>/dev/null || echo none; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
model_sha=$(sha "$model")

# --- bad inputs ------------------------------------------------------------------------------
rc=0; "$flash" --ssh-config "$t/ssh_config" -o Port=1 --package "$deb1" board >"$t/out" 2>&1 || rc=$?
[[ $rc == 2 ]] && ok "unreachable host: exit 2" || bad "unreachable host: exit $rc, expected 2"
expect_in_out "cannot reach board over SSH" "unreachable host: the error names the host"
run_flash 1 "missing package file" --package "$t/nope.deb"
expect_in_out "package $t/nope.deb: no such file" "missing package: the error names the file"
echo "not a package" > "$t/fake.deb"
run_flash 1 "a file that is not a .deb" --package "$t/fake.deb"
run_flash 1 "nothing to flash"
run_flash 3 "checksum mismatch" --package "$deb1" --model "$model" --model-sha256 "$(printf '0%.0s' $(seq 64))"
expect_in_out "checksum mismatch for the model" "checksum mismatch: named, and nothing changed"
[[ $(version) == none && ! -e $live ]] && ok "checksum mismatch: nothing installed" || bad "checksum mismatch left version $(version)"

# --- a first flash: package v1 + the bundled model -------------------------------------------
v1=$(dpkg-deb -f "$deb1" Version) v2=$(dpkg-deb -f "$deb2" Version)
run_flash 0 "first flash (package $v1 + model)" --package "$deb1" --model "$model"
[[ $(version) == "$v1" ]] && ok "package $v1 installed in the scratch root" || bad "installed version $(version), expected $v1"
[[ -f $live && $(sha "$live") == "$model_sha" ]] && ok "live model is the flashed one" || bad "live model missing or wrong"
[[ -f $root/var/lib/motus-deploy/packages/current.deb ]] && ok "good package kept for rollback" || bad "packages/current.deb missing"
[[ $(wc -l < "$root/restarts") == 1 ]] && ok "restart command ran once" || bad "restarts: $(cat "$root/restarts" 2>/dev/null)"
grep -q '^motus:' "$root/etc/passwd" && grep -q '^video:.*motus' "$root/etc/group" \
  && ok "service user motus exists, in group video" || bad "user motus / group video missing in the scratch root"
[[ -z $(ls -A "${TMPDIR:-/tmp}" | grep '^motus-flash\.' || true) ]] && ok "upload folder removed" || bad "upload folders left: $(ls -d "${TMPDIR:-/tmp}"/motus-flash.* 2>/dev/null)"

# --- package v2 + a broken model: the health check fails, everything rolls back --------------
head -c 5000 "$model" > "$t/broken.onnx"
run_flash 5 "package $v2 + broken model: unhealthy, rolled back" --package "$deb2" --model "$t/broken.onnx"
expect_in_out "health check failed" "the failing health check is reported"
[[ $(version) == "$v1" ]] && ok "package back at $v1" || bad "package at $(version) after rollback, expected $v1"
[[ $(sha "$live") == "$model_sha" ]] && ok "live model restored" || bad "live model not restored"
[[ -f ${live%.onnx}.onnx.failed && $(sha "${live%.onnx}.onnx.failed") == "$(sha "$t/broken.onnx")" ]] \
  && ok "refused model kept as model.onnx.failed" || bad "model.onnx.failed missing"
"$root/usr/bin/motus" run --config "$root/etc/motus/motus.toml" --model "$live" --source synthetic --check >/dev/null 2>&1 \
  && ok "rolled-back deployment passes motus run --check" || bad "rolled-back deployment fails --check"

# --- a forced failing health check on a good model ---------------------------------------------
# The health check fails once (this flash), then passes (after the rollback).
touch "$root/fail-next-health"
rc=0; "$flash" --ssh-config "$t/ssh_config" --root "$root" --restart "$restart" \
  --health 'if [ -e "$MOTUS_ROOT/fail-next-health" ]; then rm "$MOTUS_ROOT/fail-next-health"; echo forced failure; exit 1; fi' \
  --model "$model" board >"$t/out" 2>&1 || rc=$?
[[ $rc == 5 ]] && ok "forced failing health check: rolled back (exit 5)" || { bad "forced failing health check: exit $rc, expected 5"; sed 's/^/        /' "$t/out"; }
expect_in_out "forced failure" "the health check's output is shown"

# --- package v2 + model, healthy: previous package kept -----------------------------------
run_flash 0 "flash package $v2 (healthy)" --package "$deb2" --model "$model"
[[ $(version) == "$v2" ]] && ok "package $v2 installed" || bad "version $(version), expected $v2"
[[ $(dpkg-deb -f "$root/var/lib/motus-deploy/packages/previous.deb" Version 2>/dev/null) == "$v1" ]] \
  && ok "package $v1 kept as previous.deb" || bad "previous.deb is not $v1"
[[ -f ${live}.previous ]] && ok "previous model kept" || bad "model.onnx.previous missing"
[[ $(wc -l < "$root/var/lib/motus-deploy/deployed.log") == 2 ]] && ok "deployed.log has the two good flashes" || bad "deployed.log: $(cat "$root/var/lib/motus-deploy/deployed.log")"

echo "flash: $passed passed, $failed failed"
((failed == 0))
