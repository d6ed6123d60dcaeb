#!/usr/bin/env bash
# reset = yes (stunnel's default) is accepted and the relay serves: when the backend resets the
# connection, the TLS client sees the connection end without close_notify (reset), never a clean
# end. reset = no is refused at start with the reason (a truncated transfer must never end
# cleanly); stunnel 5.68 accepts it (README "How it differs").
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/yes.conf" "reset = yes"
echo_server echo "$P_OUT"
start_relay "$T/yes.conf" "$P_TLS"; SERVER=$RELAY_PID
make_random "$T/in" 1
(cat "$T/in"; sleep 2) | openssl s_client -connect "127.0.0.1:$P_TLS" -quiet -CAfile "$T/ca.pem" \
	-verify_return_error >"$T/back" 2>>"$T/s_client.err"
same_bytes "$T/in" "$T/back" "reset = yes"
stop_relay "$SERVER"

relay_server_conf "$T/no.conf" "reset = no"
if is_stunnel; then
	start_relay "$T/no.conf" "$P_TLS"
	log "stunnel accepts reset = no (the documented difference)"
	stop_relay "$RELAY_PID"
	pass
fi
timeout 10 "$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/no.conf" >"$T/no.out" 2>&1
rc=$?
keep_log "$T/no.out"
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "reset = no was accepted (exit $rc)"
grep -Eq "no.conf:[0-9]+: 'reset = no' is not supported: .*truncated transfer never ends cleanly" \
	"$T/no.out" || fail "the refusal does not give the line and the reason"
log "reset = no refused: $(head -n 1 "$T/no.out")"
pass
