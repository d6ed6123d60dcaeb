#!/usr/bin/env bash
# With kTLS but without tcp_diag (unloaded, and module autoloading stopped so the kernel cannot
# bring it back), ktlsstat says the kernel has no inet_diag/tcp_diag for TCP and exits 2; with
# tcp_diag back it works again. Both are restored for the scenarios that follow.
# vm-scenario: alone (it unloads tcp_diag, which every other ktlsstat user needs)
. "$(dirname "$0")/lib.sh"
require_ktls
B=$KTLSRELAY_BIN

grep -q '^tcp_diag ' /proc/modules || exit 77
old_modprobe=$(cat /proc/sys/kernel/modprobe)
restore() {
	echo "$old_modprobe" >/proc/sys/kernel/modprobe
	modprobe tcp_diag 2>/dev/null
}
trap 'restore; kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
# inet_diag asks for a missing handler with request_module(): point that at a no-op.
echo /bin/true >/proc/sys/kernel/modprobe
rmmod tcp_diag || { echo "tcp_diag cannot be unloaded here"; exit 77; }

"$B/ktlsstat" >"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/err"
[ $rc -eq 2 ] || fail "ktlsstat exited $rc without tcp_diag, expected 2"
grep -q "no inet_diag/tcp_diag" "$WORK/err" || fail "unclear message: $(cat "$WORK/err")"

restore
grep -q '^tcp_diag ' /proc/modules || fail "tcp_diag did not come back"
"$B/ktlsstat" >"$WORK/out" 2>"$WORK/err" || fail "ktlsstat fails with tcp_diag back: $(cat "$WORK/err")"
echo "PASS"
