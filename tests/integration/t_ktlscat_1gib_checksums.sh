#!/usr/bin/env bash
# 1 GiB from ktlscat send to ktlscat recv (on the host; in the emulated VM the size the
# environment gives, KTLSRELAY_TEST_MB): the received file has the sent file's SHA-256, and each
# side's summary states that same SHA-256 and the full byte count.
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"

mib=1024
[ "${KTLSRELAY_IN_VM:-0}" = 1 ] && mib=$MB
avail=$(df -Pm "$T" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt $((mib * 2 + 256)) ] || skip "$T has ${avail} MiB free, $((mib * 2)) needed"
make_certs
pick_port
make_random "$T/in" "$mib"
want=$(sha "$T/in")
spawn recv "$KTLSCAT" recv "127.0.0.1:$PORT" "$T/got" --cert "$T/server.pem"
RECV=$SPAWN_PID
keep_log "$T/recv.out"
wait_port "$PORT" 5 || fail "ktlscat recv not listening"
"$KTLSCAT" send "$T/in" "127.0.0.1:$PORT" --CAfile "$T/ca.pem" --verify 2 \
	--check-host localhost >"$T/send.out" 2>"$T/send.err"
rc=$?
keep_log "$T/send.out"
wait_pid "$RECV" 120 || fail "ktlscat recv did not finish"
[ $rc -eq 0 ] || fail "send exited $rc"
[ "$WAIT_RC" -eq 0 ] || fail "recv exited $WAIT_RC"
same_bytes "$T/in" "$T/got" "$mib MiB"
for side in send recv; do
	grep -q "^ktlscat: $side result=ok bytes=$((mib * 1048576)) " "$T/$side.out" ||
		fail "$side summary: $(cat "$T/$side.out")"
	grep -q "^ktlscat: sha256=$want " "$T/$side.out" || fail "$side summary sha256 is not $want"
	log "$(head -n 1 "$T/$side.out")"
done
pass
