#!/usr/bin/env bash
# The relay in client mode talking to openssl s_server: MB MiB up, MB MiB down, checked.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
relay_client_conf "$T/client.conf"
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID
make_random "$T/a" "$MB"
make_random "$T/b" "$MB"
# -nbio: with a blocking socket s_server sometimes enters a blocking SSL_read after its first
# record and, the client having nothing to say, stalls there (seen with stunnel4 and with
# ktlsrelay as the client, 16384 bytes delivered, then nothing).
S_SERVER="openssl s_server -quiet -nbio -naccept 1 -accept 127.0.0.1:$P_TLS -tls1_3"
S_SERVER="$S_SERVER -cert $T/server.crt -key $T/server.key"

# s_server sends its stdin and closes at its end: hold stdin open while it receives.
hold
spawn s_server.up sh -c "exec $S_SERVER <$HOLD >$T/up.got"
SRV=$SPAWN_PID
wait_port "$P_TLS" 5 || fail "s_server not listening"
send_file "$P_IN" "$T/a" || fail "upload: client socat failed"
wait_pid "$SRV" 30 || fail "upload: s_server never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "upload"

spawn s_server.down sh -c "exec $S_SERVER <$T/b"
SRV=$SPAWN_PID
wait_port "$P_TLS" 5 || fail "s_server not listening"
recv_file "$P_IN" "$T/down.got" || fail "download: client socat failed"
wait_pid "$SRV" 30
same_bytes "$T/b" "$T/down.got" "download"

expect_tls13 "$RELAY_LOG"
stop_relay "$CLIENT"
pass
