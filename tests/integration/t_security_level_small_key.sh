#!/usr/bin/env bash
# securityLevel: a server certificate with a 1024-bit RSA key is refused at start by the default
# level (2), as stunnel refuses it; with securityLevel = 0 in the service the relay starts and a
# client that lowers its own level (openssl s_client -cipher DEFAULT:@SECLEVEL=0) gets its bytes
# echoed through.
. "$(dirname "$0")/lib.sh"

make_certs
openssl req -config "$T/openssl.cnf" -new -newkey rsa:1024 -nodes -subj "/CN=localhost" \
	-keyout "$T/small.key" -out "$T/small.csr" 2>"$T/certs.err" &&
	openssl x509 -req -in "$T/small.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-set_serial "$RANDOM$RANDOM" -days 2 -extfile "$T/openssl.cnf" \
		-extensions leaf_ext -out "$T/small.crt" 2>"$T/certs.err" ||
	fail "1024-bit certificate: $(cat "$T/certs.err")"
cat "$T/small.crt" "$T/small.key" >"$T/small.pem"
chmod 600 "$T/small.pem"
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT

# conf FILE [LINE]: a relay server with the 1024-bit certificate
conf()
{
	cat >"$1" <<-CONF
		$(relay_globals)
		[server]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$P_OUT
		cert = $T/small.pem
		${2:-}
	CONF
}
conf "$T/default.conf"
if is_stunnel; then
	timeout 10 "$STUNNEL" "$T/default.conf" >"$T/default.out" 2>&1
else
	timeout 10 "$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/default.conf" >"$T/default.out" 2>&1
fi
rc=$?
keep_log "$T/default.out"
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "the default security level accepted a 1024-bit key (exit $rc)"
grep -qi "too small" "$T/default.out" || fail "the refusal does not say the key is too small"
log "default level: refused ($(grep -oi '[a-z ]*too small' "$T/default.out" | head -n 1))"

conf "$T/level0.conf" "securityLevel = 0"
echo_server echo "$P_OUT"
start_relay "$T/level0.conf" "$P_TLS"; SERVER=$RELAY_PID
make_random "$T/in" 1
(cat "$T/in"; sleep 2) | openssl s_client -connect "127.0.0.1:$P_TLS" -quiet \
	-cipher 'DEFAULT:@SECLEVEL=0' -CAfile "$T/ca.pem" -verify_return_error \
	>"$T/back" 2>>"$T/s_client.err"
same_bytes "$T/in" "$T/back" "securityLevel = 0 with a 1024-bit key"
stop_relay "$SERVER"
pass
