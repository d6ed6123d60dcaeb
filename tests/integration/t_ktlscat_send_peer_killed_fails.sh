#!/usr/bin/env bash
# The receiver killed mid-transfer (openssl s_server that stopped reading, kill -9) makes
# ktlscat send report a failure with a non-zero exit, never success. (bytes= counts what went
# into the socket: with kTLS, sendfile() may take the rest of the file after the reset without
# an error, so only the missing close_notify tells; see ktlscat_xfer.c.)
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"

make_certs
pick_port
# Larger than every socket buffer on the way, so the sender is still sending when the kill comes.
make_random "$T/in" 48
mkfifo "$T/plain"
# The reader takes one MiB, then holds the fifo open without reading: s_server blocks, the
# TCP window closes, and ktlscat blocks in the middle of the file.
( head -c 1048576 >"$T/got"; exec sleep 600 ) <"$T/plain" &
track_pid $!
# s_server's stdin never ends (at its end s_server drops what it receives).
hold
openssl s_server -quiet -naccept 1 -accept "127.0.0.1:$PORT" -cert "$T/server.crt" \
	-key "$T/server.key" -tls1_3 <"$HOLD" >"$T/plain" 2>"$T/server.err" &
SERVER=$!
track_pid "$SERVER"
keep_log "$T/server.err"
wait_port "$PORT" 5 || fail "s_server not listening"
spawn send "$KTLSCAT" send "$T/in" "127.0.0.1:$PORT" --timeout 30
SEND=$SPAWN_PID
keep_log "$T/send.out"
wait_size "$T/got" 1048576 20 || fail "the first MiB never arrived"
sleep 0.5
kill -0 "$SEND" 2>/dev/null || fail "ktlscat send ended before the kill: $(cat "$T/send.out")"
kill -KILL "$SERVER"
wait_pid "$SEND" 40 || fail "ktlscat send still running after its peer was killed"
[ "$WAIT_RC" -ne 0 ] || fail "ktlscat send exited 0 to a killed peer: $(cat "$T/send.out")"
grep -Eq "^ktlscat: send result=(reset|error|timeout|truncated) bytes=[0-9]+ " "$T/send.out" ||
	fail "summary does not say the transfer failed: $(cat "$T/send.out")"
grep -q "sha256=" "$T/send.out" && fail "a failed transfer printed a SHA-256 as if complete"
log "ktlscat send: $(head -n 1 "$T/send.out")"
pass
