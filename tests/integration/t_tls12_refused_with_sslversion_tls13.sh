#!/usr/bin/env bash
# A relay server with the seed's `sslVersion = TLSv1.3` refuses a TLS 1.2 client (openssl
# s_client -tls1_2): the handshake failure is logged, nothing reaches the backend, a TLS 1.3
# client still gets through, and ktlsrelay does not log that the service allows TLS 1.2.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_13=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
[tls13]
accept = 127.0.0.1:$P_13
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersion = TLSv1.3
CONF
start_relay "$T/server.conf" "$P_13"; SERVER=$RELAY_PID
sink_start up.got "$P_OUT"
make_random "$T/bad" 1

echo | openssl s_client -connect "127.0.0.1:$P_13" -tls1_2 -brief -CAfile "$T/ca.pem" \
	>"$T/brief" 2>&1
keep_log "$T/brief"
grep -q "Protocol version: TLSv1.2" "$T/brief" && fail "TLS 1.2 was negotiated"
s_client_send "$P_13" "$T/bad" -tls1_2 && fail "a TLS 1.2 client succeeded"
sleep 0.3
[ "$(file_size "$T/up.got")" -eq 0 ] || fail "bytes of a TLS 1.2 client reached the backend"
port_listening "$P_OUT" || fail "a TLS 1.2 client reached the backend"
log_expect "$RELAY_LOG" '\[tls13\] #[0-9]+ .*handshake failed' 'unsupported protocol' \
	"refusal logged"
is_stunnel || ! grep -q 'allows TLS 1\.2' "$RELAY_LOG" ||
	fail "a TLS 1.3-only service was logged as allowing TLS 1.2"

make_random "$T/a" "$MB"
s_client_send "$P_13" "$T/a" -tls1_3 || fail "TLS 1.3 client failed"
wait_pid "$SINK_PID" 30 || fail "the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "TLS 1.3 after the refusals"
expect_tls13 "$RELAY_LOG"
stop_relay "$SERVER"
pass
