#!/usr/bin/env bash
# A TLS 1.2 client (openssl s_client -tls1_2) is refused by a relay server with the seed's
# `sslVersion = TLSv1.3`, and (ktlsrelay only, stunnel's default differs) by one with no
# version option at all; the handshake failure is logged, nothing reaches the backend, and a
# TLS 1.3 client still gets through.
# vm-newest: no (configuration only: a version refused in the handshake)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_13=$PORT
pick_port; P_DEF=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
[tls13]
accept = 127.0.0.1:$P_13
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersion = TLSv1.3
$(is_stunnel || printf '[default]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\n' \
	"$P_DEF" "$P_OUT" "$T/server.pem")
CONF
ports=$P_13
is_stunnel || ports="$P_13 $P_DEF"
# shellcheck disable=SC2086
start_relay "$T/server.conf" $ports; SERVER=$RELAY_PID
sink_start up.got "$P_OUT"
make_random "$T/bad" 1

for p in $ports; do
	echo | openssl s_client -connect "127.0.0.1:$p" -tls1_2 -brief -CAfile "$T/ca.pem" \
		>"$T/brief.$p" 2>&1
	keep_log "$T/brief.$p"
	grep -q "Protocol version: TLSv1.2" "$T/brief.$p" && fail "port $p negotiated TLS 1.2"
	s_client_send "$p" "$T/bad" -tls1_2 && fail "port $p: a TLS 1.2 client succeeded"
done
sleep 0.3
[ "$(file_size "$T/up.got")" -eq 0 ] || fail "bytes of a TLS 1.2 client reached the backend"
port_listening "$P_OUT" || fail "a TLS 1.2 client reached the backend"
log_expect "$RELAY_LOG" '\[tls13\] #[0-9]+ .*handshake failed' 'unsupported protocol' \
	"refusal logged"
log_expect "$RELAY_LOG" '\[default\] #[0-9]+ .*handshake failed' '' "refusal logged"

make_random "$T/a" "$MB"
s_client_send "$P_13" "$T/a" -tls1_3 || fail "TLS 1.3 client failed"
wait_pid "$SINK_PID" 30 || fail "the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "TLS 1.3 after the refusals"
stop_relay "$SERVER"
pass
