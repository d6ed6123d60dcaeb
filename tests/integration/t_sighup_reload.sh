#!/usr/bin/env bash
# SIGHUP reloads the configuration: a new connection follows the new file (its `connect` moved
# to another backend) while a transfer that started before the reload continues intact to the
# old backend; a broken new file is refused, logged, and the running configuration kept.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OLD=$PORT
pick_port; P_NEW=$PORT
write_conf()
{
	cat >"$T/relay.conf" <<-CONF
		$(relay_globals)
		[server]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$1
		cert = $T/server.pem
		${2:-}
	CONF
}
reloads()
{
	if is_stunnel; then
		grep -c 'Reading configuration from file' "$RELAY_LOG"
	else
		grep -ci 'reload' "$RELAY_LOG"
	fi
}
# hup WHAT: SIGHUP, then wait until the log has a new line about a reload.
hup()
{
	local before i
	before=$(reloads)
	kill -HUP "$SERVER" || fail "SIGHUP: relay gone"
	for i in $(seq 1 50); do
		[ "$(reloads)" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$(reloads)" -gt "$before" ] || fail "$1: no reload in the log 5 s after SIGHUP"
	sleep 0.5
	relay_alive "$SERVER" "$RELAY_LOG"
}

write_conf "$P_OLD"
start_relay "$T/relay.conf" "$P_TLS"; SERVER=$RELAY_PID

# A live transfer: half of it before the reload, half after, through one TLS connection.
half=$((MB * 512 * 1024))
make_random "$T/live" "$MB"
head -c "$half" "$T/live" >"$T/live.1"
tail -c +$((half + 1)) "$T/live" >"$T/live.2"
sink_start live.got "$P_OLD"
LIVE_SINK=$SINK_PID
mkfifo "$T/feed"
SPAWN_IN=$T/feed spawn live openssl s_client -connect "127.0.0.1:$P_TLS" -quiet -no_ign_eof \
	-nocommands -CAfile "$T/ca.pem"
LIVE=$SPAWN_PID
exec 7>"$T/feed"
cat "$T/live.1" >&7
wait_size "$T/live.got" "$half" 20 || fail "the first half of the live transfer never arrived"

# The new file points at the new backend.
write_conf "$P_NEW"
hup "good reload"
make_random "$T/new" 1
sink_start new.got "$P_NEW"
s_client_send "$P_TLS" "$T/new" || fail "a new connection after the reload failed"
wait_pid "$SINK_PID" 20 || fail "the new backend never saw the end of the new connection"
same_bytes "$T/new" "$T/new.got" "new connection to the new backend"

# The live transfer ends through the old one, intact.
cat "$T/live.2" >&7
exec 7>&-
wait_pid "$LIVE" 30 || fail "the live s_client did not finish"
wait_pid "$LIVE_SINK" 30 || fail "the old backend never saw the end of the live transfer"
same_bytes "$T/live" "$T/live.got" "live transfer across the reload"

# A broken file: refused, and the configuration in force (the new backend) stays.
write_conf "$P_OLD" "no_such_option = 1"
hup "broken reload"
log_expect "$RELAY_LOG" 'no_such_option' 'no_such_option' "the broken file's error logged"
sink_start new2.got "$P_NEW"
s_client_send "$P_TLS" "$T/new" || fail "a connection after the broken reload failed"
wait_pid "$SINK_PID" 20 || fail "the new backend never saw the connection after the broken reload"
same_bytes "$T/new" "$T/new2.got" "after the broken reload, still the new backend"
stop_relay "$SERVER"
pass
