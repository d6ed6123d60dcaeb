#!/usr/bin/env bash
# Without sslVersion, a relay server accepts a TLS 1.2 client (openssl s_client -tls1_2), as
# stunnel does: its default is sslVersionMin = TLSv1, and OpenSSL 3.0 at its default security
# level allows TLS 1.2 and 1.3. The protocol negotiated is TLS 1.2, MB MiB arrive intact, and
# ktlsrelay logs once at start, as a notice, that the service allows TLS 1.2 (the service with
# sslVersion = TLSv1.3 beside it is not named). A TLS 1.1 client, even one made able to offer
# it, is refused by both relays.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_13=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
[tls13]
accept = 127.0.0.1:$P_13
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersion = TLSv1.3
CONF
start_relay "$T/server.conf" "$P_TLS" "$P_13"; SERVER=$RELAY_PID
log_expect "$RELAY_LOG" 'notice \[server\] allows TLS 1\.2 \(sslVersion = TLSv1\.3 refuses it\)' \
	'' "the notice at start"
if ! is_stunnel; then
	n=$(grep -c 'allows TLS 1\.2' "$RELAY_LOG")
	[ "$n" -eq 1 ] || fail "expected one 'allows TLS 1.2' notice (for [server]), got $n"
fi

make_random "$T/a" "$MB"
sink_start up.got "$P_OUT"
s_client_send "$P_TLS" "$T/a" -tls1_2 || fail "TLS 1.2 s_client failed"
wait_pid "$SINK_PID" 30 || fail "the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "over TLS 1.2"
echo | openssl s_client -connect "127.0.0.1:$P_TLS" -tls1_2 -brief -CAfile "$T/ca.pem" \
	>"$T/brief.12" 2>&1
keep_log "$T/brief.12"
grep -q "Protocol version: TLSv1.2" "$T/brief.12" || fail "s_client did not negotiate TLS 1.2"
log_expect "$RELAY_LOG" '\[server\] #[0-9]+ established .*version=TLSv1\.2' \
	'TLSv1\.2 ciphersuite' "TLS 1.2 in the relay log"

# The client lowers its own security level so that it offers TLS 1.1: the refusal is the relay's.
echo | openssl s_client -connect "127.0.0.1:$P_TLS" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
	-brief -CAfile "$T/ca.pem" >"$T/brief.11" 2>&1
keep_log "$T/brief.11"
grep -q "Protocol version: TLSv1.1" "$T/brief.11" && fail "TLS 1.1 was negotiated"
stop_relay "$SERVER"
pass
