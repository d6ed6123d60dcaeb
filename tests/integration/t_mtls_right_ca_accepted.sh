#!/usr/bin/env bash
# Mutual TLS: a relay server with CAfile and verifyChain accepts a client whose certificate the
# CA signed; MB MiB up and down, checked.
. "$(dirname "$0")/lib.sh"

mtls_setup
s_client_send "$P_TLS" "$T/a" -cert "$T/client.crt" -key "$T/client.key" ||
	fail "upload: s_client failed"
wait_pid "$SINK_PID" 30 || fail "upload: the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "upload with a client certificate"

make_random "$T/b" "$MB"
source_start down.srv "$P_OUT" "$T/b"
s_client_recv "$P_TLS" "$T/down.got" -cert "$T/client.crt" -key "$T/client.key" ||
	fail "download: s_client failed"
same_bytes "$T/b" "$T/down.got" "download with a client certificate"
expect_tls13 "$SERVER_LOG"
stop_relay "$SERVER"
pass
