#!/usr/bin/env bash
# ktlscat recv --verify 2 --CAfile (the relay's verify = 2): a sender with a certificate from
# that CA gets its file through byte for byte; a sender without one, or with one from another
# CA, is refused in the handshake and the file stays empty.
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"

make_certs
make_random "$T/in" 4
for who in client.pem none wrongclient.pem; do
	pick_port
	rm -f "$T/got"
	spawn "recv.$who" "$KTLSCAT" recv "127.0.0.1:$PORT" "$T/got" --cert "$T/server.pem" \
		--verify 2 --CAfile "$T/ca.pem"
	RECV=$SPAWN_PID
	wait_port "$PORT" 5 || fail "$who: ktlscat recv not listening"
	cert=()
	[ "$who" = none ] || cert=(--cert "$T/$who")
	"$KTLSCAT" send "$T/in" "127.0.0.1:$PORT" "${cert[@]}" --CAfile "$T/ca.pem" --verify 2 \
		--check-host localhost >"$T/send.$who.out" 2>&1
	rc=$?
	wait_pid "$RECV" 20 || fail "$who: ktlscat recv did not finish"
	if [ "$who" = client.pem ]; then
		[ $rc -eq 0 ] || fail "$who: send exited $rc: $(cat "$T/send.$who.out")"
		[ "$WAIT_RC" -eq 0 ] || fail "$who: recv exited $WAIT_RC: $(cat "$T/recv.$who.out")"
		same_bytes "$T/in" "$T/got" "with a client certificate"
	else
		[ $rc -ne 0 ] || fail "$who: send exited 0"
		[ "$WAIT_RC" -ne 0 ] || fail "$who: recv exited 0"
		grep -q 'recv result=error why="\(handshake failed\|peer certificate rejected\)' \
			"$T/recv.$who.out" || fail "$who: no refusal: $(cat "$T/recv.$who.out")"
		[ "$(file_size "$T/got")" -eq 0 ] || fail "$who: bytes reached the file"
		log "$who refused: $(cat "$T/recv.$who.out")"
	fi
done
pass
