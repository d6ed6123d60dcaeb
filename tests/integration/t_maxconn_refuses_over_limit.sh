#!/usr/bin/env bash
# maxconn: a server-mode service with maxconn = 2 serves two connections at once; a third is
# reset at once (the client never gets a handshake, so it cannot mistake the refusal for an empty
# transfer) and logged with its address; once one of the two ends, the next connection is served
# and its echo arrives intact. A reload keeps counting the connections of the old generation.
. "$(dirname "$0")/lib.sh"

is_stunnel && skip "stunnel has no maxconn"

setup_chain "maxconn = 2"
echo_server echo "$P_OUT"
hold

# Two connections held open through the chain, established end to end before the third.
for i in 1 2; do
	spawn "holder$i" socat -T 60 "OPEN:$HOLD,rdonly!!OPEN:$T/holder$i.back,wronly,creat" \
		"TCP4:127.0.0.1:$P_IN"
	eval "HOLDER$i=\$SPAWN_PID"
done
for _ in $(seq 100); do
	[ "$(grep -c ' established ' "$SERVER_LOG")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c ' established ' "$SERVER_LOG")" -eq 2 ] || fail "the two held connections were not established"

f=$T/third
make_random "$f.in" 1
duplex_client "$P_IN" "$f.in" "$f.back" && [ -s "$f.back" ] &&
	fail "a third connection over maxconn = 2 carried data"
log_expect "$SERVER_LOG" '\[server\] refused from=127\.0\.0\.1:[0-9]+ why="maxconn 2 reached"' '' \
	"the refusal logged with the peer's address"
[ "$(grep -c ' established ' "$SERVER_LOG")" -eq 2 ] || fail "the server relay established a connection over its limit"
log_expect "$CLIENT_LOG" 'result=(reset|error)' '' "the client relay saw the refusal as a failure"

# A reload must not reset the count: the two held connections still fill the service.
kill -HUP "$SERVER"
for _ in $(seq 50); do grep -q 'reloaded' "$SERVER_LOG" && break; sleep 0.1; done
grep -q 'reloaded' "$SERVER_LOG" || fail "no reload logged"
duplex_client "$P_IN" "$f.in" "$f.back" && [ -s "$f.back" ] &&
	fail "after a reload, a third connection over maxconn = 2 carried data"
[ "$(grep -c ' established ' "$SERVER_LOG")" -eq 2 ] || fail "after a reload, the server relay established a connection over its limit"

# One holder ends; its slot frees and the next connection is served in full.
kill "$HOLDER1"
for _ in $(seq 100); do
	grep -q ' closed ' "$SERVER_LOG" && break
	sleep 0.1
done
check_echo "$P_IN" 1 "a connection once a slot is free"
kill "$HOLDER2"
stop_relay "$CLIENT"
stop_relay "$SERVER"
pass
