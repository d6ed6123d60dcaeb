#!/usr/bin/env bash
# SIGUSR1 reopens the `output` log file: after the file is moved away (log rotation), the
# relay writes to a new file of the same name, and the moved one stops growing. A reopen that
# fails is logged in the file still in use.
# vm-newest: no (configuration only: log file reopening)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
cat >"$T/relay.conf" <<CONF
$(relay_globals)
output = $T/out.log
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CONF
keep_log "$T/out.log"
start_relay "$T/relay.conf" "$P_TLS"; SERVER=$RELAY_PID
make_random "$T/a" 1

transfer()
{
	sink_start "$1" "$P_OUT"
	s_client_send "$P_TLS" "$T/a" || fail "$1: s_client failed"
	wait_pid "$SINK_PID" 20 || fail "$1: the backend never saw the end"
	same_bytes "$T/a" "$T/$1" "$1"
	sleep 0.3
}

transfer first.got
grep -q "$P_OUT" "$T/out.log" || fail "the first connection is not in the output file"
mv "$T/out.log" "$T/out.log.1"
kill -USR1 "$SERVER"
for i in $(seq 1 50); do
	[ -e "$T/out.log" ] && break
	sleep 0.1
done
lines=$(wc -l <"$T/out.log.1")
transfer second.got
[ -e "$T/out.log" ] || fail "no new output file after SIGUSR1"
[ "$(wc -l <"$T/out.log.1")" -eq "$lines" ] || fail "the rotated file still grows"
log_expect "$T/out.log" '#[0-9]+ (established|closed)' 'accepted connection' \
	"the second connection in the new file"

# A reopen that fails (here the path has become a directory) is logged, naming the file, in the
# file still in use, and logging goes on there.
if ! is_stunnel; then
	mv "$T/out.log" "$T/out.log.2"
	mkdir "$T/out.log"
	kill -USR1 "$SERVER"
	for i in $(seq 1 50); do
		grep -q "cannot reopen" "$T/out.log.2" && break
		sleep 0.1
	done
	log_expect "$T/out.log.2" "cannot reopen the log file $T/out.log: Is a directory" '' \
		"the failed reopen logged in the file still in use"
	transfer third.got
	log_expect "$T/out.log.2" '#[0-9]+ closed' '' "the third connection in the file still in use"
fi
stop_relay "$SERVER"
pass
