#!/usr/bin/env bash
# verifyPeer = yes (without verifyChain): a client refused for its certificate gets the alert
# stunnel 5.68 sends. A self-signed certificate not in CAfile: unknown_ca (OpenSSL's own verdict on
# the leaf is kept); a certificate from another CA: bad_certificate (not in CAfile). The client
# whose certificate is in CAfile is served. Run with TLS 1.3 and 1.2.
. "$(dirname "$0")/lib.sh"

make_certs
openssl req -config "$T/openssl.cnf" -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-days 2 -subj "/CN=localhost" -extensions leaf_ext -keyout "$T/self.key" \
	-out "$T/self.crt" 2>"$T/certs.err" || fail "self-signed certificate: $(cat "$T/certs.err")"
cat "$T/ca.pem" "$T/client.crt" >"$T/peers.pem"
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CAfile = $T/peers.pem
verifyPeer = yes
CONF
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID
echo_server echo "$P_OUT"

# alert_for NAME VERSION: the alert the relay sends a client with NAME.crt.
alert_for()
{
	(sleep 1; echo hello) | openssl s_client -connect "127.0.0.1:$P_TLS" "$2" -msg \
		-cert "$T/$1.crt" -key "$T/$1.key" -CAfile "$T/ca.pem" >"$T/$1$2.msg" 2>&1
	keep_log "$T/$1$2.msg"
	sed -n 's/^<<< TLS.*Alert.*fatal \([a-z_]*\).*/\1/p' "$T/$1$2.msg" | head -n 1
}

for v in -tls1_3 -tls1_2; do
	got=$(alert_for self $v)
	[ "$got" = unknown_ca ] || fail "self-signed client ($v): alert '$got', stunnel sends unknown_ca"
	got=$(alert_for wrongclient $v)
	[ "$got" = bad_certificate ] ||
		fail "client from another CA ($v): alert '$got', stunnel sends bad_certificate"
	log "$v: self-signed -> unknown_ca, another CA -> bad_certificate"
done
[ "$(echo_connections echo)" -eq 0 ] || fail "a refused client reached the backend"
check_echo_tls()
{
	make_random "$T/in" 1
	(cat "$T/in"; sleep 1) | openssl s_client -connect "127.0.0.1:$P_TLS" -quiet \
		-cert "$T/client.crt" -key "$T/client.key" -CAfile "$T/ca.pem" \
		>"$T/back" 2>>"$T/s_client.err"
	same_bytes "$T/in" "$T/back" "the client in CAfile"
}
check_echo_tls
stop_relay "$SERVER"
pass
