#!/usr/bin/env bash
# With a ktlscat transfer open (an openssl s_client sending to ktlscat recv, which holds its
# keys in the kernel), ktlsstat lists ktlscat's socket: ESTAB, the right ports, owner
# ktlscat(PID), TLSv1.3, the suite s_client asked for, tx and rx in software kTLS; --port and
# --pid select it, other values do not. Needs kTLS: runs in the VM, skipped elsewhere.
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
KTLSSTAT=$KTLSRELAY_BIN/ktlsstat
[ -x "$KTLSSTAT" ] && [ -x "$KTLSCAT" ] || fail "no ktlsstat/ktlscat (build failed?)"
[ -r /proc/net/tls_stat ] || skip "no kTLS in this kernel"
[ "$(id -u)" = 0 ] || skip "the kernel shows ULP info only to CAP_NET_ADMIN"

make_certs
pick_port
suite=TLS_CHACHA20_POLY1305_SHA256
spawn recv "$KTLSCAT" recv "127.0.0.1:$PORT" "$T/got" --cert "$T/server.pem"
RECV=$SPAWN_PID
wait_port "$PORT" 5 || fail "ktlscat recv not listening"
mkfifo "$T/fifo"
SPAWN_IN=$T/fifo spawn client openssl s_client -quiet -connect "127.0.0.1:$PORT" -tls1_3 \
	-ciphersuites "$suite"
CLIENT=$SPAWN_PID
exec 3>"$T/fifo"
echo hello >&3
wait_size "$T/got" 6 20 || fail "ktlscat recv got nothing"

"$KTLSSTAT" >"$T/table" 2>"$T/err" || fail "ktlsstat failed: $(cat "$T/err")"
keep_log "$T/table"
cat "$T/table" >&2
grep -Eq "^ESTAB +127\.0\.0\.1:$PORT +127\.0\.0\.1:[0-9]+ +ktlscat\($RECV\) +TLSv1\.3 +$suite +sw +sw " \
	"$T/table" || fail "no row for ktlscat's socket"
"$KTLSSTAT" --port "$PORT" --pid "$RECV" | grep -q "ktlscat($RECV)" || fail "--port and --pid"
"$KTLSSTAT" --pid "$CLIENT" | grep -q "ktlscat($RECV)" && fail "--pid of another process"
other=$((PORT + 1))
"$KTLSSTAT" --port $other --json | grep -q '"state"' && fail "--port $other lists a socket"
"$KTLSSTAT" --json --port "$PORT" >"$T/json" || fail "ktlsstat --json failed"
grep -q "\"pid\": $RECV, \"process\": \"ktlscat\".*\"cipher\": \"$suite\", \"kernel_cipher\": \"chacha20-poly1305\"" \
	"$T/json" || fail "JSON: $(cat "$T/json")"
exec 3>&-
kill -TERM "$CLIENT"
pass
