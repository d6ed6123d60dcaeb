#!/usr/bin/env bash
# sessionResume in server mode: with the default (yes), openssl s_client -sess_out then -sess_in
# reports "Reused"; with sessionResume = no the relay issues no ticket (s_client saves no
# resumable session) and a second s_client with the first one's session is not reused. TLS 1.3
# and 1.2. On ktlsrelay, the established line says resumed=yes or resumed=no accordingly.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_YES=$PORT
pick_port; P_NO=$PORT
pick_port; P_OUT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
[yes]
accept = 127.0.0.1:$P_YES
[no]
accept = 127.0.0.1:$P_NO
sessionResume = no
CONF
echo_server echo "$P_OUT"
start_relay "$T/server.conf" "$P_YES" "$P_NO"; SERVER=$RELAY_PID

# connect PORT VERSION SESSION_OPTION FILE OUT: one s_client connection; the ticket arrives after
# the handshake, so stdin stays open a moment.
connect()
{
	(sleep 0.5) | openssl s_client -connect "127.0.0.1:$1" "$2" -CAfile "$T/ca.pem" \
		"$3" "$4" >"$5" 2>&1
	keep_log "$5"
}

for v in -tls1_3 -tls1_2; do
	connect "$P_YES" $v -sess_out "$T/yes$v.sess" "$T/yes$v.1"
	connect "$P_YES" $v -sess_in "$T/yes$v.sess" "$T/yes$v.2"
	grep -q '^Reused' "$T/yes$v.2" || fail "sessionResume = yes ($v): the session was not reused"
	grep -q '^New' "$T/yes$v.1" || fail "sessionResume = yes ($v): the first handshake not new"

	connect "$P_NO" $v -sess_out "$T/no$v.sess" "$T/no$v.1"
	if [ $v = -tls1_3 ] && grep -q 'TLS session ticket:' "$T/no$v.1"; then
		fail "sessionResume = no ($v): the relay issued a session ticket"
	fi
	if [ -s "$T/no$v.sess" ]; then
		connect "$P_NO" $v -sess_in "$T/no$v.sess" "$T/no$v.2"
		grep -q '^New' "$T/no$v.2" ||
			fail "sessionResume = no ($v): the second connection was not a full handshake"
	fi
	log "$v: sessionResume = yes resumes, sessionResume = no does not"
done
log_expect "$RELAY_LOG" '\[yes\] #[0-9]+ established .* resumed=yes' '' "resumed=yes logged"
log_expect "$RELAY_LOG" '\[no\] #[0-9]+ established .* resumed=no' '' "resumed=no logged"
if ! is_stunnel && grep -Eq '\[no\] #[0-9]+ established .* resumed=yes' "$RELAY_LOG"; then
	fail "a [no] connection was logged resumed=yes"
fi
stop_relay "$SERVER"
pass
