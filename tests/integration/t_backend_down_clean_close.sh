#!/usr/bin/env bash
# Server mode with its backend down: the handshake completes, the connect fails (logged with the
# address and the reason), and the TLS peer gets a clean close_notify; the relay keeps serving,
# and once the backend is up the next connection carries data.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG

# stdin stays open a while: at stdin's EOF s_client would close first, and the relay must be the
# one that ends this connection.
sleep 5 | openssl s_client -connect "127.0.0.1:$P_TLS" -CAfile "$T/ca.pem" -verify_return_error \
	-msg -msgfile "$T/down.msg" >"$T/down.out" 2>"$T/down.err"
log_expect "$SERVER_LOG" "connect to 127.0.0.1:$P_OUT failed: Connection refused" \
	'Connection refused' "backend failure logged"
grep -q "^<<< .*close_notify" "$T/down.msg" || fail "the TLS peer got no close_notify after the backend failed"
log "the TLS peer got a close_notify"

sink_start got "$P_OUT"
make_random "$T/a" 1
s_client_send "$P_TLS" "$T/a"
wait_size "$T/got" "$(file_size "$T/a")" 20 || fail "no data through once the backend is up"
same_bytes "$T/a" "$T/got" "after the backend came up"
stop_relay "$SERVER"
pass
