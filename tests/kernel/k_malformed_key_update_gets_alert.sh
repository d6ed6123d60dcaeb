#!/usr/bin/env bash
# A peer that sends a malformed KeyUpdate through kTLS (ktls_peer --handshake crafts it) after
# some data gets the fatal alert RFC 8446 names for it, the bytes before it are delivered
# intact, and the reason is said; the same policy in ktlscat and in the relay's kernel path:
#   request_update 2              -> illegal_parameter(47)
#   a body of two bytes           -> decode_error(50)
#   a KeyUpdate then another message in the same record -> unexpected_message(10)
# ktlscat: result=error, why= names the alert. The relay (server mode, kernel path): its
# plaintext side sees every byte before, then a reset, and the log says why.
# Any kernel with kTLS (the parse needs no rekey).
. "$(dirname "$0")/lib.sh"
require_ktls
make_files
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/server.pem"
B=$KTLSRELAY_BIN
head -c 300000 /dev/urandom >"$WORK/before"

CASES=(
	"1800000102 illegal_parameter 47"
	"180000020000 decode_error 50"
	"18000001000400000100 unexpected_message 10"
)

wait_for() { # FILE PATTERN
	for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

port=4733
for c in "${CASES[@]}"; do
	set -- $c
	hex=$1 alert=$2 code=$3

	# ktlscat recv <- ktls_peer.
	rm -f "$WORK/got"
	"$B/ktlscat" recv 127.0.0.1:$port "$WORK/got" --cert "$WORK/server.pem" --ktls on \
		>"$WORK/recv.out" 2>"$WORK/recv.err" &
	rpid=$!
	wait_for "$WORK/recv.err" listening || fail "ktlscat recv did not listen"
	"$KTESTS/ktls_peer" --connect $port --send "$WORK/before" --handshake "$hex" \
		>"$WORK/peer.out" 2>&1
	prc=$?
	wait $rpid
	rrc=$?
	cat "$WORK/recv.out" "$WORK/peer.out"
	[ $rrc -ne 0 ] || fail "$alert: ktlscat accepted a malformed KeyUpdate"
	grep -q "^ktlscat: recv result=error .*why=\"peer sent malformed KeyUpdate: answered with alert $alert\"" \
		"$WORK/recv.out" || fail "$alert: ktlscat's why"
	[ $prc -eq 5 ] || fail "$alert: ktls_peer exited $prc, not 5 (an alert)"
	grep -q "records: control record: alert fatal $alert($code)" "$WORK/peer.out" ||
		fail "$alert: the peer did not get alert $alert"
	same_bytes "$WORK/before" "$WORK/got" "$alert: ktlscat kept the bytes before it"
	port=$((port + 1))

	# The relay, server mode, kernel path: ktls_peer -> relay -> socat sink.
	sink=$((port + 100))
	rm -f "$WORK/sunk"
	socat -u TCP4-LISTEN:$sink,bind=127.0.0.1,reuseaddr OPEN:"$WORK/sunk",creat,trunc \
		2>"$WORK/sink.err" &
	spid=$!
	cat >"$WORK/relay.conf" <<-CONF
		foreground = yes
		syslog = no
		debug = 6
		[svc]
		accept = 127.0.0.1:$port
		connect = 127.0.0.1:$sink
		cert = $WORK/server.pem
		ktls = on
	CONF
	"$B/ktlsrelay" "$WORK/relay.conf" >"$WORK/relay.log" 2>&1 &
	relay=$!
	wait_for "$WORK/relay.log" "listening on" || fail "the relay did not listen"
	"$KTESTS/ktls_peer" --connect $port --send "$WORK/before" --handshake "$hex" \
		>"$WORK/peer.out" 2>&1
	prc=$?
	wait_for "$WORK/relay.log" "closed" || { cat "$WORK/relay.log"; fail "$alert: the relay did not close"; }
	wait $spid
	kill $relay
	wait $relay 2>/dev/null
	cat "$WORK/peer.out"
	grep "closed" "$WORK/relay.log"
	grep -q "established.*tx=kernel rx=kernel" "$WORK/relay.log" || fail "$alert: relay not offloaded"
	grep -q "closed .*result=reset why=\"peer sent malformed KeyUpdate: answered with alert $alert\"" \
		"$WORK/relay.log" || fail "$alert: the relay's log"
	[ $prc -eq 5 ] || fail "$alert: ktls_peer exited $prc, not 5 (an alert)"
	grep -q "records: control record: alert fatal $alert($code)" "$WORK/peer.out" ||
		fail "$alert: the peer did not get alert $alert from the relay"
	same_bytes "$WORK/before" "$WORK/sunk" "$alert: the relay delivered the bytes before it"
	port=$((port + 1))
done
echo "PASS"
