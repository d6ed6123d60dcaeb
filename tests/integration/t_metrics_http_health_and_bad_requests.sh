#!/usr/bin/env bash
# metrics: the endpoint's HTTP. /health answers 200 while the relay accepts and 503 once it is
# stopping (live transfers still draining); an unknown path 404, a POST 405, a malformed or an
# endless request 400; a client that never sends a whole request gets 408 and does not hold the
# thread: others are served meanwhile, and with every slot taken a new one is served within the
# request timeout (5 s).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/metrics_lib.sh"

is_stunnel && skip "stunnel has no metrics endpoint"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
pick_port; M=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
metrics = $M
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CONF
echo_server echo "$P_OUT"
start_relay "$T/server.conf" "$P_TLS" "$M"
SERVER=$RELAY_PID
SERVER_LOG=$RELAY_LOG
hold

http_get "$M" /health "$T/health"
[ "$HTTP_STATUS" = 200 ] && [ "$(cat "$T/health")" = ok ] || fail "/health: $HTTP_STATUS $(cat "$T/health")"
http_get "$M" /nope "$T/nope"
[ "$HTTP_STATUS" = 404 ] || fail "/nope answered $HTTP_STATUS, not 404"
http_get "$M" /metrics "$T/post" POST
[ "$HTTP_STATUS" = 405 ] || fail "POST /metrics answered $HTTP_STATUS, not 405"

# raw REQUEST_FILE: what the endpoint answers to those bytes; the status line's code.
raw()
{
	socat -t 10 -T 10 - "TCP4:127.0.0.1:$M" <"$1" 2>/dev/null | head -n 1 | awk '{ print $2 }'
}
printf 'hello there\r\n\r\n' >"$T/garbage"
[ "$(raw "$T/garbage")" = 400 ] || fail "a malformed request was not answered 400"
{ printf 'GET /metrics HTTP/1.1\r\n'; head -c 5000 /dev/zero | tr '\0' a; } >"$T/long"
[ "$(raw "$T/long")" = 400 ] || fail "a 5000-byte request head was not answered 400"

# One client that says nothing: the next is served at once, the silent one gets 408.
spawn silent socat -T 30 "OPEN:$HOLD,rdonly!!OPEN:$T/silent.back,wronly,creat" "TCP4:127.0.0.1:$M"
SILENT=$SPAWN_PID
sleep 0.5
t0=$(now_ms)
http_get "$M" /health "$T/health2"
t1=$(now_ms)
[ "$HTTP_STATUS" = 200 ] || fail "/health beside a silent client: $HTTP_STATUS"
[ $((t1 - t0)) -lt 2000 ] || fail "/health beside a silent client took $((t1 - t0)) ms"
wait_pid "$SILENT" 10 || fail "the silent client was not closed within 10 s"
grep -q '^HTTP/1.1 408 ' "$T/silent.back" || fail "the silent client got no 408: $(head -c 200 "$T/silent.back")"

# Every slot taken by silent clients: a new client waits in the backlog, bounded by the timeout.
for i in $(seq 1 9); do
	spawn "silent$i" socat -T 30 "OPEN:$HOLD,rdonly!!OPEN:$T/silent$i.back,wronly,creat" "TCP4:127.0.0.1:$M"
done
sleep 0.5
t0=$(now_ms)
http_get "$M" /health "$T/health3"
t1=$(now_ms)
[ "$HTTP_STATUS" = 200 ] || fail "/health with every slot taken: $HTTP_STATUS"
[ $((t1 - t0)) -lt 8000 ] || fail "/health with every slot taken took $((t1 - t0)) ms"
log "/health with 9 silent clients ahead: $((t1 - t0)) ms"

# Stopping: a live TLS connection keeps the relay draining; /health says 503 meanwhile.
spawn holder openssl s_client -connect "127.0.0.1:$P_TLS" -quiet -CAfile "$T/ca.pem" <"$HOLD"
HOLDER=$SPAWN_PID
wait_until 10 sample_is "$M" 'ktlsrelay_connections_open{service="server"}' 1 || fail "the held connection is not open"
kill -TERM "$SERVER"
wait_until 5 grep -q 'stopping' "$SERVER_LOG" || fail "no stopping line"
http_get "$M" /health "$T/health4"
[ "$HTTP_STATUS" = 503 ] || fail "/health while stopping answered $HTTP_STATUS, not 503"
scrape "$M" "$T/stopping.prom"
expect_sample "$T/stopping.prom" ktlsrelay_accepting 0 "stopping"
kill "$HOLDER"
wait_pid "$SERVER" 20 || fail "the relay did not exit once the held connection ended"
[ "$WAIT_RC" -eq 0 ] || fail "the relay exited with $WAIT_RC"
pass
