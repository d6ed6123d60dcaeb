#!/usr/bin/env bash
# With sslVersionMin = TLSv1.2 the relay server accepts a TLS 1.2 client (openssl s_client
# -tls1_2): the protocol negotiated is TLS 1.2 and MB MiB go through intact.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersionMin = TLSv1.2
CONF
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID

make_random "$T/a" "$MB"
sink_start up.got "$P_OUT"
s_client_send "$P_TLS" "$T/a" -tls1_2 || fail "TLS 1.2 s_client failed"
wait_pid "$SINK_PID" 30 || fail "the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "over TLS 1.2"
echo | openssl s_client -connect "127.0.0.1:$P_TLS" -tls1_2 -brief -CAfile "$T/ca.pem" \
	>"$T/brief.out" 2>&1
keep_log "$T/brief.out"
grep -q "Protocol version: TLSv1.2" "$T/brief.out" || fail "s_client did not negotiate TLS 1.2"
log_expect "$RELAY_LOG" 'established .*version=TLSv1\.2' 'TLSv1\.2 ciphersuite' \
	"TLS 1.2 in the relay log"
stop_relay "$SERVER"
pass
