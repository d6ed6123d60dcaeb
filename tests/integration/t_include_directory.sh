#!/usr/bin/env bash
# include = DIRECTORY: the relay reads the directory's *.conf files in ascending order of names
# (00-global.conf's service defaults apply to the services of 01-*.conf and 02-*.conf), both
# services carry bytes end to end; a file that does not end in .conf is not read by ktlsrelay
# (stunnel 5.68 reads every file: README "How it differs"). A bad line in an included file stops
# the start with that file's name and line.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_ONE=$PORT
pick_port; P_TWO=$PORT
pick_port; P_TXT=$PORT
pick_port; P_OUT=$PORT
mkdir "$T/conf.d"
# written in reverse order: the order is the names', not the directory's
cat >"$T/conf.d/02-two.conf" <<CONF
[two]
accept = 127.0.0.1:$P_TWO
CONF
cat >"$T/conf.d/01-one.conf" <<CONF
[one]
accept = 127.0.0.1:$P_ONE
CONF
cat >"$T/conf.d/00-global.conf" <<CONF
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CONF
cat >"$T/conf.d/notes.txt" <<CONF
[notes]
accept = 127.0.0.1:$P_TXT
CONF
cat >"$T/main.conf" <<CONF
$(relay_globals)
include = $T/conf.d
CONF
echo_server echo "$P_OUT"
start_relay "$T/main.conf" "$P_ONE" "$P_TWO"; SERVER=$RELAY_PID

for port in "$P_ONE" "$P_TWO"; do
	make_random "$T/in" 1
	(cat "$T/in"; sleep 2) | openssl s_client -connect "127.0.0.1:$port" -quiet \
		-CAfile "$T/ca.pem" -verify_return_error >"$T/back" 2>>"$T/s_client.err"
	same_bytes "$T/in" "$T/back" "through the included service at $port"
done
if is_stunnel; then
	port_listening "$P_TXT" || fail "stunnel did not read notes.txt (it reads every file)"
else
	port_listening "$P_TXT" && fail "ktlsrelay read notes.txt, which does not end in .conf"
fi
stop_relay "$SERVER"

printf '[bad]\naccept = 127.0.0.1:%s\nbogus = 1\n' "$P_TXT" >"$T/conf.d/03-bad.conf"
rm "$T/conf.d/notes.txt"
if is_stunnel; then
	"$STUNNEL" "$T/main.conf" >"$T/bad.out" 2>&1
else
	"$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/main.conf" >"$T/bad.out" 2>&1
fi
rc=$?
keep_log "$T/bad.out"
[ "$rc" -ne 0 ] || fail "a bad line in an included file did not stop the start"
grep -q "conf.d/03-bad.conf:3" "$T/bad.out" || fail "the error does not name 03-bad.conf:3"
log "the error names $(grep -o 'conf.d/03-bad.conf:3[^"]*' "$T/bad.out" | head -n 1)"
pass
