#!/usr/bin/env bash
# NOTIFY_SOCKET in the abstract namespace ("@name"): a relay that cannot open its listener (the
# port is taken) exits 1 without READY=1, so systemd marks the start failed instead of calling a
# dead relay ready; one that can, sends READY=1 there. A NOTIFY_SOCKET that cannot be reached
# stops the start at once with the reason (rather than a start that would time out).
. "$(dirname "$0")/../integration/lib.sh"

NOTIFY_RECV=${KTLSRELAY_TESTS_BIN:-$KTLSRELAY_BIN/../tests}/notify_recv
[ -x "$NOTIFY_RECV" ] || fail "no $NOTIFY_RECV (build failed?)"
make_certs
pick_port; P_TLS=$PORT
pick_port; P_BACK=$PORT
NAME=@ktlsrelay-test-$$-$RANDOM
spawn notify "$NOTIFY_RECV" "$NAME"
NOTES=$T/notify.out
keep_log "$NOTES"
sleep 0.2
kill -0 "$SPAWN_PID" 2>/dev/null || fail "notify_recv could not bind $NAME"

cat >"$T/relay.conf" <<-CONF
	$(relay_globals)
	[server]
	accept = 127.0.0.1:$P_TLS
	connect = 127.0.0.1:$P_BACK
	cert = $T/server.pem
CONF

# The port taken by another listener: start-up fails, and no READY=1.
spawn taken socat "TCP4-LISTEN:$P_TLS,bind=127.0.0.1" /dev/null
wait_port "$P_TLS" 5 || fail "socat did not take $P_TLS"
NOTIFY_SOCKET=$NAME "$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/relay.conf" >"$T/failed.log" 2>&1
rc=$?
keep_log "$T/failed.log"
[ "$rc" -eq 1 ] || fail "relay on a taken port exited $rc, not 1"
sleep 0.2
[ ! -s "$NOTES" ] || fail "a relay that failed to start sent: $(cat "$NOTES")"
kill "$SPAWN_PID"
wait_until 5 sh -c "! grep -q ':$(printf '%04X' "$P_TLS") .* 0A ' /proc/net/tcp" ||
	fail "socat still listens"

NOTIFY_SOCKET=$NAME "$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/relay.conf" >"$T/relay.log" 2>&1 &
RELAY=$!
track_pid "$RELAY"
keep_log "$T/relay.log"
wait_until 10 grep -q READY=1 "$NOTES" || fail "no READY=1 on $NAME within 10 s"
port_listening "$P_TLS" || fail "READY=1 sent, but nothing listens on $P_TLS yet"
grep -q "^pid=$RELAY READY=1" "$NOTES" || fail "READY=1 not from $RELAY: $(cat "$NOTES")"
stop_relay "$RELAY"
grep -q "^pid=$RELAY STOPPING=1$" "$NOTES" || fail "no STOPPING=1: $(cat "$NOTES")"

# Nobody listens on this name: the relay says so and exits 1 before opening anything.
NOTIFY_SOCKET=@ktlsrelay-nobody-$$-$RANDOM "$KTLSRELAY_BIN/ktlsrelay" --foreground \
	"$T/relay.conf" >"$T/nobody.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "unreachable NOTIFY_SOCKET: exit $rc, not 1"
grep -q "NOTIFY_SOCKET=@ktlsrelay-nobody.*connect: Connection refused" "$T/nobody.log" ||
	fail "unreachable NOTIFY_SOCKET: no reason given: $(cat "$T/nobody.log")"
pass
