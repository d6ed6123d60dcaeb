#!/usr/bin/env bash
# Without foreground the relay daemonizes: the command returns 0 once it serves, the pid file
# holds the live daemon's pid, `output` gets the log, data flows, SIGTERM stops it. A start-up
# that cannot work (the port is taken) returns non-zero instead.
# vm-newest: no (configuration only: daemonizing and the pid file)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
cat >"$T/daemon.conf" <<CONF
pid = $T/relay.pid
output = $T/daemon.log
$(is_stunnel && echo "syslog = no")
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CONF
keep_log "$T/daemon.log"
start_daemon "$T/daemon.conf" "$T/relay.pid" "$P_TLS"
log "daemon pid $DAEMON_PID"
[ "$(awk '/^PPid:/ { print $2 }' "/proc/$DAEMON_PID/status")" != $$ ] ||
	fail "the daemon is still a child of the shell that started it"
log_expect "$T/daemon.log" 'listening on' 'Configuration successful' "log in the output file"

make_random "$T/a" "$MB"
sink_start up.got "$P_OUT"
s_client_send "$P_TLS" "$T/a" || fail "s_client failed"
wait_pid "$SINK_PID" 30 || fail "the sink never saw the end of the stream"
same_bytes "$T/a" "$T/up.got" "through the daemon"

# The same port again: start-up fails, and the command must say so.
sed "s|pid = .*|pid = $T/second.pid|; s|output = .*|output = $T/second.log|" \
	"$T/daemon.conf" >"$T/second.conf"
keep_log "$T/second.log"
if is_stunnel; then
	timeout 10 "$STUNNEL" "$T/second.conf" >"$T/second.out" 2>&1
else
	timeout 10 "$KTLSRELAY_BIN/ktlsrelay" "$T/second.conf" >"$T/second.out" 2>&1
fi
rc=$?
keep_log "$T/second.out"
sleep 0.5
[ -s "$T/second.pid" ] && track_pid "$(tr -dc 0-9 <"$T/second.pid")"
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "a daemon that cannot bind its port returned $rc"
if [ -s "$T/second.pid" ]; then
	kill -0 "$(tr -dc 0-9 <"$T/second.pid")" 2>/dev/null &&
		fail "a second daemon runs although it could not bind"
fi
relay_alive "$DAEMON_PID"

stop_daemon "$DAEMON_PID"
pass
