#!/usr/bin/env bash
# The relay client -> relay server chain with both relays under valgrind's memcheck: a transfer
# each way and an echo both ways at once, every byte checked, then SIGTERM; both relays must exit
# 0 with no memcheck error (invalid reads and writes, uninitialised values, bad frees) and no
# definitely lost block (--errors-for-leak-kinds=definite: still reachable memory at exit is not
# an error). KTLSRELAY_VALGRIND_MB sizes the transfers (default 4 MiB each way: valgrind runs the
# relays some 30 times slower).
#
# Two things valgrind 3.19 needs here, both about threads and io_uring, not about the relay:
# - It runs one thread at a time under one lock, and a thread waiting in io_uring_enter() keeps
#   that lock (valgrind knows the call, but not that it can block): with two workers the one
#   waiting starved the other, and a connection stalled for good after its accept (seen here:
#   the waiting thread in io_cqring_wait, the others in valgrind's lock pipe). So each relay runs
#   one worker.
# - The main thread takes SIGTERM in sigwaitinfo() and then needs that lock, which the worker
#   gives up only when its time slice (100000 blocks) runs out; an idle worker wakes once a second
#   for a few blocks, so that takes minutes. After SIGTERM the test makes the relay work (a TLS
#   handshake: millions of blocks) until it has stopped; --fair-sched=yes makes the waiting main
#   thread the next to run.
. "$(dirname "$0")/lib.sh"

is_stunnel && skip "valgrind checks ktlsrelay itself"
if ! command -v valgrind >/dev/null; then
	# The guest's tools are tests/vm/run's package list, without valgrind; and memcheck on TCG
	# would take many minutes. The host runs this test on every build.
	[ -n "${KTLSRELAY_IN_VM:-}" ] && skip "no valgrind in the kTLS VM; the host runs this test"
	fail "valgrind is missing (tools/setup installs it)"
fi
# Memcheck cannot run an AddressSanitizer binary (both own the heap); that build checks the same
# chain with ASan. The plain build runs this test.
grep -q __asan_init "$KTLSRELAY_BIN/ktlsrelay" &&
	skip "AddressSanitizer build: valgrind cannot run it; ASan checks this build"
MB=${KTLSRELAY_VALGRIND_MB:-4}

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
relay_client_conf "$T/client.conf"
# A global line, so before the first section.
sed -i '1i workers = 1' "$T/server.conf" "$T/client.conf"

mkdir "$T/vg"
cat >"$T/vg/ktlsrelay" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --fair-sched=yes \\
	--log-file=$T/valgrind.%p.log "$KTLSRELAY_BIN/ktlsrelay" "\$@"
EOF
chmod +x "$T/vg/ktlsrelay"

# start_vg CONF PORT NUDGE...: start_relay's job for a relay under valgrind. The relay listens
# before its worker starts, but the main thread logs "listening on" only after, and then waits
# for valgrind's lock like a signal does (see the top): NUDGE (a connection) once a second until
# it has. Sets RELAY_PID RELAY_LOG.
start_vg()
{
	local conf=$1 port=$2 i
	shift 2
	RELAY_N=$((RELAY_N + 1))
	RELAY_LOG=$T/relay$RELAY_N.log
	"$T/vg/ktlsrelay" --foreground "$conf" >"$RELAY_LOG" 2>&1 &
	RELAY_PID=$!
	track_pid "$RELAY_PID"
	keep_log "$RELAY_LOG"
	keep_log "$T/valgrind.$RELAY_PID.log"
	for i in $(seq 1 120); do
		grep -q "listening on" "$RELAY_LOG" && return 0
		kill -0 "$RELAY_PID" 2>/dev/null ||
			fail "relay under valgrind exited during start-up: $(tail -n 5 "$RELAY_LOG")"
		port_listening "$port" && timeout 20 "$@" </dev/null >/dev/null 2>&1
		sleep 1
	done
	fail "relay under valgrind did not log 'listening on' within 2 min"
}

t0=$(now_ms)
start_vg "$T/server.conf" "$P_TLS" openssl s_client -connect "127.0.0.1:$P_TLS"
SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
start_vg "$T/client.conf" "$P_IN" socat -u OPEN:/dev/null "TCP4:127.0.0.1:$P_IN"
CLIENT=$RELAY_PID; CLIENT_LOG=$RELAY_LOG
# The nudges' connections may still be on their way (handshakes under valgrind take a second or
# two); one reaching the backend would take the one-connection sink of the upload.
counted() { cat "$CLIENT_LOG" "$SERVER_LOG" | grep -c " $1 "; }
for i in $(seq 1 600); do
	[ "$(counted accepted)" -eq "$(counted closed)" ] && break
	sleep 0.1
done
[ "$(counted accepted)" -eq "$(counted closed)" ] || fail "the start-up connections never ended"
log "both relays up under valgrind after $(($(now_ms) - t0)) ms"

xfer_up_down "$P_IN" "$P_OUT"
echo_server echo "$P_OUT"
check_echo "$P_IN" "$MB" "echo both ways at once"
expect_tls13 "$SERVER_LOG"
expect_tls13 "$CLIENT_LOG"

# vg_stop PID NUDGE...: SIGTERM, then the NUDGE command (a connection) once a second until the
# relay has exited (see the top); the exit code must be 0 (99: memcheck found an error).
vg_stop()
{
	local pid=$1 i
	shift
	kill -TERM "$pid" || fail "relay $pid is gone before SIGTERM"
	for i in $(seq 1 90); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
		kill -0 "$pid" 2>/dev/null || break
		timeout 20 "$@" </dev/null >/dev/null 2>&1
	done
	wait_pid "$pid" 30 || fail "relay $pid under valgrind did not exit after SIGTERM"
	[ "$WAIT_RC" -eq 0 ] ||
		fail "relay $pid under valgrind exited $WAIT_RC (99: memcheck errors):" \
			"$(grep -A 12 -E 'Invalid|uninitialised|definitely lost in' "$T/valgrind.$pid.log" | head -n 40)"
}
vg_stop "$CLIENT" socat -u OPEN:/dev/null "TCP4:127.0.0.1:$P_IN"
vg_stop "$SERVER" openssl s_client -connect "127.0.0.1:$P_TLS"
log "both relays stopped after $(($(now_ms) - t0)) ms"

for pid in "$CLIENT" "$SERVER"; do
	f=$T/valgrind.$pid.log
	grep -q "ERROR SUMMARY: 0 errors from 0 contexts" "$f" ||
		fail "memcheck errors in relay $pid: $(grep 'ERROR SUMMARY' "$f")"
	grep -Eq "definitely lost: 0 bytes|no leaks are possible" "$f" ||
		fail "relay $pid lost memory: $(grep 'definitely lost' "$f")"
	grep -q "Process terminating" "$f" && fail "relay $pid was killed: $(grep -A 3 'Process terminating' "$f")"
	log "relay $pid: $(grep -o 'ERROR SUMMARY: .*' "$f" | head -n 1);" \
		"$(grep -Eo 'total heap usage: .*|definitely lost: .*' "$f" | tr '\n' ' ')"
	grep -q "unhandled" "$f" && log "valgrind: $(grep -m 3 unhandled "$f")"
done
grep -q ' stopped' "$CLIENT_LOG" && grep -q ' stopped' "$SERVER_LOG" ||
	fail "a relay did not log its clean stop"
pass
