#!/usr/bin/env bash
# ticketKeySecret and ticketMacSecret: two relays (two processes, as two cluster nodes) given the
# same secrets resume each other's sessions: openssl s_client -sess_out on one, -sess_in on the
# other reports "Reused", and bytes pass on the resumed connection. A third relay with other
# secrets makes a full handshake with the same session. TLS 1.3 and 1.2. Secrets of 16 and 32
# bytes, one written with colons.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_A=$PORT
pick_port; P_B=$PORT
pick_port; P_C=$PORT
pick_port; P_OUT=$PORT
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
MAC=f0:e1:d2:c3:b4:a5:96:87:78:69:5a:4b:3c:2d:1e:0f
OTHER=0f0e0d0c0b0a09080706050403020100

# node NAME PORT KEY MAC: a relay server [node] at PORT in front of the echo server.
node()
{
	cat >"$T/$1.conf" <<-CONF
		$(relay_globals)
		[node]
		accept = 127.0.0.1:$2
		connect = 127.0.0.1:$P_OUT
		cert = $T/server.pem
		ticketKeySecret = $3
		ticketMacSecret = $4
	CONF
	start_relay "$T/$1.conf" "$2"
}
echo_server echo "$P_OUT"
node a "$P_A" "$KEY" "$MAC"; A=$RELAY_PID
node b "$P_B" "$KEY" "$MAC"; B=$RELAY_PID
node c "$P_C" "$OTHER" "$MAC"; C=$RELAY_PID

# connect PORT VERSION SESSION_OPTION FILE OUT: one s_client connection sending a line; the
# ticket arrives after the handshake, so stdin stays open a while (in the kTLS VM the echo takes
# over a second).
connect()
{
	(echo "through $1"; sleep 2) | openssl s_client -connect "127.0.0.1:$1" "$2" \
		-CAfile "$T/ca.pem" -verify_return_error "$3" "$4" >"$5" 2>&1
	keep_log "$5"
}

for v in -tls1_3 -tls1_2; do
	connect "$P_A" $v -sess_out "$T/a$v.sess" "$T/a$v.out"
	grep -q '^New' "$T/a$v.out" || fail "$v: the first handshake on a was not a full one"
	connect "$P_B" $v -sess_in "$T/a$v.sess" "$T/b$v.out"
	grep -q '^Reused' "$T/b$v.out" || fail "$v: b (same secrets) did not resume a's session"
	grep -q "^through $P_B" "$T/b$v.out" || fail "$v: no echo on the resumed connection to b"
	connect "$P_C" $v -sess_in "$T/a$v.sess" "$T/c$v.out"
	grep -q '^New' "$T/c$v.out" || fail "$v: c (other secrets) did not make a full handshake"
	grep -q "^through $P_C" "$T/c$v.out" || fail "$v: no echo through c"
	log "$v: resumed on the relay with the same secrets, full handshake on the other"
done
log_expect "$T/relay2.log" '\[node\] #[0-9]+ established .* resumed=yes' '' "b logged resumed=yes"
if ! is_stunnel && grep -q 'resumed=yes' "$T/relay3.log"; then
	fail "c logged a resumed session"
fi
stop_relay "$A"
stop_relay "$B"
stop_relay "$C"
pass
