#!/usr/bin/env bash
# openssl s_client as the TLS peer of the relay in server mode: MB MiB up (ended by
# close_notify), MB MiB down (ended by the relay's close_notify), both checked.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID
make_random "$T/a" "$MB"
make_random "$T/b" "$MB"

sink_start up.got "$P_OUT"
s_client_send "$P_TLS" "$T/a" || fail "upload: s_client failed"
wait_pid "$SINK_PID" 30 || fail "upload: the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "upload"

source_start down.srv "$P_OUT" "$T/b"
s_client_recv "$P_TLS" "$T/down.got" || fail "download: s_client failed"
same_bytes "$T/b" "$T/down.got" "download"

expect_tls13 "$RELAY_LOG"
stop_relay "$SERVER"
pass
