#!/usr/bin/env bash
# SIGHUP under load: twenty echo transfers in flight through one service (stunnel4 client ->
# relay server -> socat echo; ten paused halfway until the end of the test, ten streaming), while
# SIGHUP reloads the file three times, each time with one more service. Each new service serves
# at once; none of the live transfers is dropped or corrupted (checksummed both ways). Then a
# file with a syntax error, sent by SIGHUP during the transfers, is refused with FILE:LINE in
# the log, and the running configuration keeps serving (its newest service still answers; the
# broken file's extra service never listens).
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

make_certs
pick_port; P_OUT=$PORT
declare -a P_IN P_TLS
for k in 0 1 2 3 4; do
	pick_port; P_IN[$k]=$PORT
	pick_port; P_TLS[$k]=$PORT
done
# write_conf K [EXTRA]: services s0..sK, all in front of the echo server.
write_conf()
{
	local k
	{
		relay_globals
		for k in $(seq 0 "$1"); do
			printf '[s%d]\naccept = 127.0.0.1:%d\nconnect = 127.0.0.1:%d\ncert = %s\n' \
				"$k" "${P_TLS[$k]}" "$P_OUT" "$T/server.pem"
		done
		[ -z "${2:-}" ] || printf '%s\n' "$2"
	} >"$T/relay.conf"
}
{
	peer_globals
	for k in 0 1 2 3 4; do
		printf '[p%d]\nclient = yes\naccept = 127.0.0.1:%d\nconnect = 127.0.0.1:%d\n' \
			"$k" "${P_IN[$k]}" "${P_TLS[$k]}"
		printf 'CAfile = %s\nverifyChain = yes\ncheckHost = localhost\n' "$T/ca.pem"
	done
} >"$T/peer.conf"
# socat's -T (inactivity) must outlast the held transfers' pause, which is long in the VM: an
# echo backend and clients with -T 300 instead of lib.sh's 30 (otherwise socat itself ends a
# held transfer cleanly and the test blames the relay).
SOCAT_HELD="-t 60 -T 300"
echo_backend echo "$P_OUT" "$SOCAT_HELD"
write_conf 0
start_relay "$T/relay.conf" "${P_TLS[0]}"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
start_peer "$T/peer.conf" "${P_IN[@]}"

reloads()
{
	grep -c 'configuration reloaded\|reload refused' "$SERVER_LOG"
}
# hup WHAT: SIGHUP, then wait for the relay's answer in its log.
hup()
{
	local before i
	before=$(reloads)
	kill -HUP "$SERVER" || fail "SIGHUP: relay gone"
	for i in $(seq 1 100); do
		[ "$(reloads)" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$(reloads)" -gt "$before" ] || fail "$1: no reload answer in the log 10 s after SIGHUP"
	relay_alive "$SERVER" "$SERVER_LOG"
}

# Ten held transfers: half, a pause until its gate opens, the other half. The gate is a fifo:
# cat blocks in open() until the test opens it for writing; no polling loop (ten of them forking
# sleep ten times a second cost a CPU in the VM, where every fork is emulated).
HELD_KB=$((MB * 16))
CLIENTS=()
for i in $(seq 1 10); do
	head -c $((HELD_KB * 1024)) /dev/urandom >"$T/x$i.1"
	head -c $((HELD_KB * 1024)) /dev/urandom >"$T/x$i.2"
	cat "$T/x$i.1" "$T/x$i.2" >"$T/x$i"
	mkfifo "$T/feed$i"
	mkfifo "$T/gate$i"
	(cat "$T/x$i.1"; cat "$T/gate$i" >/dev/null; cat "$T/x$i.2") >"$T/feed$i" &
	track_pid $!
	spawn "client$i" socat $SOCAT_HELD "OPEN:$T/feed$i,rdonly!!OPEN:$T/back$i,wronly,creat,trunc" \
		"TCP4:127.0.0.1:${P_IN[0]}"
	CLIENTS+=("$SPAWN_PID")
done
for i in $(seq 1 10); do
	wait_size "$T/back$i" $((HELD_KB * 1024)) 60 || fail "held transfer $i: its first half never came back"
done
# Ten streaming transfers, started just before the reloads.
for i in $(seq 11 20); do
	head -c $((MB * 32 * 1024)) /dev/urandom >"$T/x$i"
	spawn "client$i" socat $SOCAT_T "OPEN:$T/x$i,rdonly!!OPEN:$T/back$i,wronly,creat,trunc" \
		"TCP4:127.0.0.1:${P_IN[0]}"
	CLIENTS+=("$SPAWN_PID")
done
log "20 transfers in flight (10 held halfway, 10 streaming $((MB * 32)) KiB each)"

for k in 1 2 3; do
	write_conf "$k"
	hup "reload $k"
	grep -q 'reload refused' "$SERVER_LOG" &&
		fail "reload $k was refused: $(grep 'reload refused' "$SERVER_LOG")"
	wait_port "${P_TLS[$k]}" 10 || fail "reload $k: the new service s$k does not listen"
	check_echo_kb "${P_IN[$k]}" 256 "reload $k: the new service s$k"
done

# A syntax error on a known line, sent while the held transfers are still open.
write_conf 4
bad_line=$(($(wc -l <"$T/relay.conf") + 1))
echo "this line has no equals sign" >>"$T/relay.conf"
hup "broken reload"
log_expect "$SERVER_LOG" "reload refused.*relay\\.conf:$bad_line" '' \
	"the broken file refused with FILE:LINE ($bad_line)"
log "broken reload: $(grep 'reload refused' "$SERVER_LOG" | sed 's/.*reload refused/reload refused/')"
port_listening "${P_TLS[4]}" && fail "the broken file's service s4 listens: the broken file was applied"
check_echo_kb "${P_IN[3]}" 256 "after the broken reload, s3 of the running configuration"
check_echo_kb "${P_IN[0]}" 256 "after the broken reload, s0 of the running configuration"

for i in $(seq 1 10); do
	: >"$T/gate$i"
done
for i in $(seq 1 20); do
	wait_pid "${CLIENTS[$((i - 1))]}" 120 || fail "transfer $i did not finish"
	[ "$WAIT_RC" -eq 0 ] || fail "transfer $i: socat exited with $WAIT_RC"
	same_bytes "$T/x$i" "$T/back$i" "transfer $i across three reloads and a refused one"
done
bad=$(grep ' closed ' "$SERVER_LOG" | grep -vc 'result=ok')
[ "$bad" -eq 0 ] || fail "$bad connections did not close cleanly:" \
	"$(grep ' closed ' "$SERVER_LOG" | grep -v 'result=ok' | head -n 3)"
stop_relay "$SERVER"
pass
