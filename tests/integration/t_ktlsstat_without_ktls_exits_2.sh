#!/usr/bin/env bash
# On a kernel without the TLS ULP (this project's hosts), ktlsstat says so in one clear line
# and exits 2, in both output formats; a bad argument exits 1. Skipped where kTLS exists.
# vm-newest: no (skipped wherever kTLS exists)
. "$(dirname "$0")/lib.sh"
KTLSSTAT=$KTLSRELAY_BIN/ktlsstat
[ -x "$KTLSSTAT" ] || fail "no $KTLSSTAT (build failed?)"

if [ -r /proc/net/tls_stat ] || grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then
	skip "this kernel has kTLS"
fi
for args in "" "--json" "--port 443"; do
	# shellcheck disable=SC2086
	"$KTLSSTAT" $args >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 2 ] || fail "ktlsstat $args exited $rc, expected 2: $(cat "$T/err")"
	grep -q "this kernel has no TLS ULP" "$T/err" || fail "ktlsstat $args: unclear message: $(cat "$T/err")"
	[ ! -s "$T/out" ] || fail "ktlsstat $args printed a listing anyway: $(cat "$T/out")"
done
log "message: $(cat "$T/err")"
"$KTLSSTAT" --port 0 >/dev/null 2>&1
[ $? -eq 1 ] || fail "a bad --port does not exit 1"
"$KTLSSTAT" --bogus >/dev/null 2>&1
[ $? -eq 1 ] || fail "an unknown option does not exit 1"
pass
