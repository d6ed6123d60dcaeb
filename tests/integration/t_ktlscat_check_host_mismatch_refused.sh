#!/usr/bin/env bash
# ktlscat send with --verify 2 --check-host for a name the receiver's certificate lacks refuses
# the peer during the handshake: exit 1, "hostname mismatch", and not a byte reaches the file.
# vm-newest: no (configuration only: refused in the handshake, no kTLS socket)
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"

make_certs
pick_port
make_random "$T/in" 1
spawn recv "$KTLSCAT" recv "127.0.0.1:$PORT" "$T/got" --cert "$T/server.pem"
RECV=$SPAWN_PID
wait_port "$PORT" 5 || fail "ktlscat recv not listening"
"$KTLSCAT" send "$T/in" "127.0.0.1:$PORT" --CAfile "$T/ca.pem" --verify 2 \
	--check-host not-localhost.example >"$T/send.out" 2>&1
rc=$?
keep_log "$T/send.out"
[ $rc -eq 1 ] || fail "send exited $rc for a wrong host name"
grep -q 'result=error why="peer certificate rejected: hostname mismatch"' "$T/send.out" ||
	fail "no clear refusal: $(cat "$T/send.out")"
wait_pid "$RECV" 10 || fail "ktlscat recv still waiting"
[ "$WAIT_RC" -ne 0 ] || fail "ktlscat recv exited 0 without a transfer"
[ "$(file_size "$T/got")" -eq 0 ] || fail "bytes reached the file"
pass
