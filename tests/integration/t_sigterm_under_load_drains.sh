#!/usr/bin/env bash
# SIGTERM with several transfers in flight (five echo round trips through stunnel4 client ->
# relay server -> socat echo, each half sent and half echoed when the signal comes): a connection
# attempted after the signal is refused (connection refused or reset: never accepted and then
# dropped in silence), every transfer in flight finishes intact both ways, and the relay exits 0
# once they have drained.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf" "TIMEOUTclose = 60"
peer_client_conf "$T/peer.conf"
# socat's -T (inactivity) must outlast the transfers' pause, which can be long on a loaded machine
# or in the VM: otherwise socat itself ends a paused transfer and the test blames the relay.
SOCAT_HELD="-t 60 -T 300"
echo_backend echo "$P_OUT" "$SOCAT_HELD"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
start_peer "$T/peer.conf" "$P_IN"

# Each transfer: part 1, then a pause until its gate opens, then part 2, then the end. The gate
# is a fifo: cat blocks in open() until the test opens it for writing; no polling loop (ten of
# them forking sleep ten times a second cost a CPU in the VM, where every fork is emulated).
N=5
KB=$((MB * 32))
CLIENTS=()
for i in $(seq 1 $N); do
	head -c $((KB * 1024)) /dev/urandom >"$T/x$i.1"
	head -c $((KB * 1024)) /dev/urandom >"$T/x$i.2"
	cat "$T/x$i.1" "$T/x$i.2" >"$T/x$i"
	mkfifo "$T/feed$i"
	mkfifo "$T/gate$i"
	(cat "$T/x$i.1"; cat "$T/gate$i" >/dev/null; cat "$T/x$i.2") >"$T/feed$i" &
	track_pid $!
	spawn "client$i" socat $SOCAT_HELD "OPEN:$T/feed$i,rdonly!!OPEN:$T/back$i,wronly,creat,trunc" \
		"TCP4:127.0.0.1:$P_IN"
	CLIENTS+=("$SPAWN_PID")
done
for i in $(seq 1 $N); do
	wait_size "$T/back$i" $((KB * 1024)) 60 || fail "transfer $i: its first half never came back"
done
log "$N transfers in flight, $KB KiB each way echoed so far"

kill -TERM "$SERVER"
log_wait=0
until grep -q 'stopping' "$SERVER_LOG"; do
	sleep 0.1
	log_wait=$((log_wait + 1))
	[ $log_wait -lt 100 ] || fail "the relay did not log its stop within 10 s of SIGTERM"
done
# The relay checks its connections on a one-second tick: the transfers stay paused across two of
# them, so a relay that ended them at the stop (not at TIMEOUTclose) could not pass by luck.
sleep 2
# A late connection: refused or reset at once, never accepted and left hanging or dropped.
timeout 10 openssl s_client -connect "127.0.0.1:$P_TLS" -CAfile "$T/ca.pem" </dev/null \
	>"$T/late.out" 2>&1
rc=$?
keep_log "$T/late.out"
[ $rc -ne 124 ] || fail "a connection after SIGTERM hangs"
grep -Eq 'errno=(111|104)|Connection refused|reset by peer' "$T/late.out" ||
	fail "a connection after SIGTERM was neither refused nor reset (s_client exited $rc)"
log "a connection after SIGTERM:" \
	"$(grep -Eo 'errno=[0-9]+|Connection refused|reset by peer' "$T/late.out" | head -n 1)"
relay_alive "$SERVER" "$SERVER_LOG"

for i in $(seq 1 $N); do
	: >"$T/gate$i"
done
for i in $(seq 1 $N); do
	wait_pid "${CLIENTS[$((i - 1))]}" 120 || fail "transfer $i did not finish"
	[ "$WAIT_RC" -eq 0 ] || fail "transfer $i: socat exited with $WAIT_RC"
	same_bytes "$T/x$i" "$T/back$i" "transfer $i, in flight at SIGTERM, echoed"
done
wait_pid "$SERVER" 30 || fail "the relay did not exit after its transfers drained"
[ "$WAIT_RC" -eq 0 ] || fail "the relay exited with $WAIT_RC"
closed=$(grep -c 'closed .*result=ok' "$SERVER_LOG")
[ "$closed" -eq $N ] || fail "the relay logged $closed clean closes, not $N"
log "the relay exited 0 after $N clean closes"
pass
