#!/usr/bin/env bash
# A sender killed mid-transfer (openssl s_client, kill -9: the TLS stream ends without
# close_notify) makes ktlscat recv report a failure with a non-zero exit, never success.
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"

make_certs
pick_port
make_random "$T/part" 1
spawn recv "$KTLSCAT" recv "127.0.0.1:$PORT" "$T/got" --cert "$T/server.pem" --timeout 30
RECV=$SPAWN_PID
keep_log "$T/recv.out"
wait_port "$PORT" 5 || fail "ktlscat recv not listening"
# s_client sends what its stdin gives and stays connected while the fifo stays open.
mkfifo "$T/fifo"
SPAWN_IN=$T/fifo spawn client openssl s_client -quiet -connect "127.0.0.1:$PORT" -tls1_3
CLIENT=$SPAWN_PID
exec 3>"$T/fifo"
cat "$T/part" >&3
wait_size "$T/got" "$(file_size "$T/part")" 20 || fail "the first MiB never arrived"
kill -KILL "$CLIENT"
exec 3>&-
wait_pid "$RECV" 30 || fail "ktlscat recv still running after its peer was killed"
[ "$WAIT_RC" -ne 0 ] || fail "ktlscat recv exited 0 for a truncated transfer: $(cat "$T/recv.out")"
grep -Eq "^ktlscat: recv result=(truncated|reset) bytes=$(file_size "$T/part") " "$T/recv.out" ||
	fail "summary does not say truncated: $(cat "$T/recv.out")"
grep -q "sha256=" "$T/recv.out" && fail "a failed transfer printed a SHA-256 as if complete"
log "ktlscat recv: $(head -n 1 "$T/recv.out")"
pass
