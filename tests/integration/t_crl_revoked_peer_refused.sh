#!/usr/bin/env bash
# CRLfile and CRLpath: a client certificate revoked in a CRL made by `openssl ca -gencrl` is
# refused (alert certificate_revoked, nothing reaches the backend), a good one is served, on a
# service with CRLfile and on one with CRLpath (a hashed directory). Then the CA revokes the good
# certificate too, writes a new CRL into the same file, and after SIGHUP the relay refuses it.
. "$(dirname "$0")/lib.sh"

make_certs
# revoked.pem: a second client certificate from the same CA
openssl req -config "$T/openssl.cnf" -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=localhost" -keyout "$T/revoked.key" -out "$T/revoked.csr" 2>"$T/certs.err" &&
	openssl x509 -req -in "$T/revoked.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-set_serial "$RANDOM$RANDOM" -days 2 -extfile "$T/openssl.cnf" \
		-extensions leaf_ext -out "$T/revoked.crt" 2>"$T/certs.err" ||
	fail "certificate revoked: $(cat "$T/certs.err")"

# openssl ca keeps its revocations in an index file.
: >"$T/index.txt"
echo 01 >"$T/crlnumber"
cat >"$T/ca.cnf" <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = $T/index.txt
crlnumber = $T/crlnumber
certificate = $T/ca.pem
private_key = $T/ca.key
default_md = sha256
default_crl_days = 2
CNF
revoke()
{
	openssl ca -config "$T/ca.cnf" -revoke "$1" >>"$T/ca.out" 2>&1 ||
		fail "openssl ca -revoke $1: $(tail -n 3 "$T/ca.out")"
	openssl ca -config "$T/ca.cnf" -gencrl -out "$T/crl.new" >>"$T/ca.out" 2>&1 ||
		fail "openssl ca -gencrl: $(tail -n 3 "$T/ca.out")"
	mv "$T/crl.new" "$T/crl.pem"
	mkdir -p "$T/crls"
	rm -f "$T"/crls/*
	cp "$T/crl.pem" "$T/crls/$(openssl crl -hash -noout -in "$T/crl.pem").r0"
}
revoke "$T/revoked.crt"

pick_port; P_FILE=$PORT
pick_port; P_PATH=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CAfile = $T/ca.pem
verifyChain = yes
[file]
accept = 127.0.0.1:$P_FILE
CRLfile = $T/crl.pem
[path]
accept = 127.0.0.1:$P_PATH
CRLpath = $T/crls
CONF
echo_server echo "$P_OUT"
start_relay "$T/server.conf" "$P_FILE" "$P_PATH"; SERVER=$RELAY_PID

# try PORT NAME: the alert the relay sends a client with NAME.crt ("" when none), and whether
# the echo came back (OUT holds it).
try()
{
	(echo "from $2"; sleep 2) | openssl s_client -connect "127.0.0.1:$1" -msg \
		-cert "$T/$2.crt" -key "$T/$2.key" -CAfile "$T/ca.pem" >"$T/try.$1.$2" 2>&1
	keep_log "$T/try.$1.$2"
	ALERT=$(sed -n 's/^<<< TLS.*Alert.*fatal \([a-z_]*\).*/\1/p' "$T/try.$1.$2" | head -n 1)
	ECHOED=no
	grep -q "^from $2" "$T/try.$1.$2" && ECHOED=yes
}

for port in "$P_FILE" "$P_PATH"; do
	try "$port" revoked
	[ "$ALERT" = certificate_revoked ] || fail "port $port: revoked client got alert '$ALERT'"
	[ "$ECHOED" = no ] || fail "port $port: the revoked client was served"
	try "$port" client
	[ -z "$ALERT" ] && [ "$ECHOED" = yes ] || fail "port $port: the good client was not served ($ALERT)"
done
[ "$(echo_connections echo)" -eq 2 ] || fail "the backend saw $(echo_connections echo) connections, not 2"
log "revoked certificate refused, good one served, with CRLfile and with CRLpath"

reloaded()
{
	if is_stunnel; then
		[ "$(grep -c 'Reading configuration from file' "$RELAY_LOG")" -ge 2 ]
	else
		grep -q 'configuration reloaded' "$RELAY_LOG"
	fi
}
revoke "$T/client.crt"
kill -HUP "$SERVER"
wait_until 10 reloaded || fail "no reload in the log 10 s after SIGHUP"
sleep 0.5
for port in "$P_FILE" "$P_PATH"; do
	try "$port" client
	[ "$ALERT" = certificate_revoked ] ||
		fail "port $port: after SIGHUP, the newly revoked client got alert '$ALERT'"
done
log "after SIGHUP the new CRL refuses the newly revoked certificate"
log_expect "$RELAY_LOG" '\[file\] #[0-9]+ .*certificate revoked' 'certificate revoked' \
	"the refusal logged"
stop_relay "$SERVER"
pass
