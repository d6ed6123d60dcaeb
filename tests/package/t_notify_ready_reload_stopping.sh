#!/usr/bin/env bash
# systemd's notify protocol, against a datagram socket of the test's own (tests/package/
# notify_recv stands in for systemd): READY=1 comes once the listener accepts, RELOADING=1 (with
# MONOTONIC_USEC) then READY=1 around a SIGHUP reload, a refused one too, STOPPING=1 on SIGTERM;
# every message from the relay's main PID (what NotifyAccess=main accepts). As root the relay
# chroots into a directory where the socket's path does not exist and drops to nobody: the
# messages after that still arrive, because the socket was connected before the chroot.
. "$(dirname "$0")/../integration/lib.sh"

NOTIFY_RECV=${KTLSRELAY_TESTS_BIN:-$KTLSRELAY_BIN/../tests}/notify_recv
[ -x "$NOTIFY_RECV" ] || fail "no $NOTIFY_RECV (build failed?)"
make_certs
pick_port; P_TLS=$PORT
pick_port; P_BACK=$PORT

spawn notify "$NOTIFY_RECV" "$T/notify.sock"
NOTES=$T/notify.out
wait_until 5 test -S "$T/notify.sock" || fail "notify_recv did not bind"
notes() { cat "$NOTES"; }
count() { grep -c -- "$1" "$NOTES"; }
has_ready() { [ "$(count READY=1)" -ge "$1" ]; }

write_conf() # DIR: the configuration, as the relay sees it from DIR
{
	cat >"$1/relay.conf" <<-CONF
		$(relay_globals)
		$CHROOT_LINES
		[server]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$P_BACK
		cert = $T/server.pem
		${2:-}
	CONF
}
CHROOT_LINES=""
if [ "$(id -u)" -eq 0 ]; then
	CHROOT_LINES=$(printf 'chroot = %s\nsetuid = nobody\nsetgid = nobody' "$T/jail")
	# A reload reads the file and the certificate again from inside the chroot (as stunnel).
	mkdir -p "$T/jail$T"
	cp "$T/server.pem" "$T/jail$T/server.pem"
	chmod 644 "$T/jail$T/server.pem"
	write_conf "$T/jail$T"
	# LeakSanitizer reads /proc/PID/task at exit, which the chroot hides (as in
	# t_privileges_dropped_in_chroot): the other ASan checks stay on.
	if grep -q __asan_init "$KTLSRELAY_BIN/ktlsrelay"; then
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	fi
else
	log "not root: no chroot or privilege drop in this run"
fi
write_conf "$T"

NOTIFY_SOCKET=$T/notify.sock "$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/relay.conf" \
	>"$T/relay.log" 2>&1 &
RELAY=$!
track_pid "$RELAY"
keep_log "$T/relay.log"
keep_log "$NOTES"

wait_until 10 grep -q READY=1 "$NOTES" || fail "no READY=1 within 10 s: $(notes)"
# At READY=1 the listener must already take connections: no wait here.
port_listening "$P_TLS" || fail "READY=1 sent, but nothing listens on $P_TLS yet"
[ "$(wc -l <"$NOTES")" -eq 1 ] || fail "expected READY=1 alone at start: $(notes)"
grep -q "^pid=$RELAY READY=1 STATUS=serving 1 service$" "$NOTES" ||
	fail "READY=1 not from the main PID $RELAY with its status: $(notes)"
sink_start got "$P_BACK"
printf 'through the relay\n' >"$T/msg"
s_client_send "$P_TLS" "$T/msg" || fail "TLS client failed right after READY=1"
wait_size "$T/got" 18 10 || fail "the backend got $(file_size "$T/got") of 18 bytes"
same_bytes "$T/msg" "$T/got" "first connection after READY=1"
[ "$(id -u)" -ne 0 ] || grep -q "^Uid:.*65534" /proc/$RELAY/status ||
	fail "the relay did not drop to nobody"

# hup N: SIGHUP, then wait for the Nth READY=1.
hup()
{
	kill -HUP "$RELAY" || fail "relay gone"
	wait_until 10 has_ready "$1" || fail "no READY=1 after SIGHUP: $(notes)"
}
hup 2
sed -n 2p "$NOTES" | grep -Eq "^pid=$RELAY RELOADING=1 MONOTONIC_USEC=[0-9]+$" ||
	fail "line 2 is not RELOADING=1 with MONOTONIC_USEC from $RELAY: $(notes)"
usec=$(sed -n 2p "$NOTES" | sed 's/.*MONOTONIC_USEC=//')
up=$(awk '{ printf "%d", $1 + 1 }' /proc/uptime)
[ "$usec" -gt 0 ] && [ $((usec / 1000000)) -le "$up" ] ||
	fail "MONOTONIC_USEC=$usec is not CLOCK_MONOTONIC in microseconds (uptime ${up}s)"
sed -n 3p "$NOTES" | grep -q "^pid=$RELAY READY=1 STATUS=serving 1 service (reloaded)$" ||
	fail "line 3 is not READY=1 after the reload: $(notes)"

# A refused reload still ends with READY=1: the relay serves on with the old file.
for d in "$T" "$T/jail$T"; do
	[ -d "$d" ] && echo "no_such_option = 1" >>"$d/relay.conf"
done
hup 3
sed -n 4p "$NOTES" | grep -Eq "^pid=$RELAY RELOADING=1 MONOTONIC_USEC=[0-9]+$" ||
	fail "line 4 is not RELOADING=1: $(notes)"
sed -n 5p "$NOTES" | grep -q "^pid=$RELAY READY=1 STATUS=reload refused: .*no_such_option" ||
	fail "line 5 is not READY=1 with the refusal: $(notes)"
[ "$(count STOPPING=1)" -eq 0 ] || fail "STOPPING=1 before SIGTERM: $(notes)"

stop_relay "$RELAY"
sed -n 6p "$NOTES" | grep -q "^pid=$RELAY STOPPING=1$" || fail "line 6 is not STOPPING=1: $(notes)"
[ "$(wc -l <"$NOTES")" -eq 6 ] || fail "unexpected messages: $(notes)"
log "$(tr '\n' '|' <"$NOTES")"
pass
