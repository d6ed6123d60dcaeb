#!/usr/bin/env bash
# Out of file descriptors (EMFILE), the relay's accept backs off (one log line, a retry a second
# later), never spins, and serves again once descriptors are free.
# vm-newest: no (configuration only: accept() out of descriptors)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
# The limit must be in force when the relay starts: io_uring reads RLIMIT_NOFILE when an accept
# is armed, so lowering it afterwards (prlimit) does not reach a multishot accept in flight.
# Only the relay gets it (through a wrapper that execs it); this shell needs its descriptors.
mkdir "$T/lowfd"
printf '#!/bin/sh\nulimit -n 48\nexec "%s/ktlsrelay" "$@"\n' "$KTLSRELAY_BIN" >"$T/lowfd/ktlsrelay"
chmod +x "$T/lowfd/ktlsrelay"
REAL_BIN=$KTLSRELAY_BIN
KTLSRELAY_BIN=$T/lowfd
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
KTLSRELAY_BIN=$REAL_BIN

# Idle TCP connections (no handshake): each costs the relay one descriptor.
held=()
for i in $(seq 1 40); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$P_TLS" || fail "connect $i"
	held+=("$fd")
done
for _ in $(seq 50); do grep -q "Too many open files" "$SERVER_LOG" && break; sleep 0.1; done
grep -q "accept: Too many open files; retrying in a second" "$SERVER_LOG" ||
	fail "no EMFILE back-off logged"

cpu() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
logged() { grep -c "Too many open files" "$SERVER_LOG"; }
c0=$(cpu)
l0=$(logged)
sleep 3
c1=$(cpu)
l1=$(logged)
ticks=$((c1 - c0))
log "relay CPU while out of descriptors: $ticks ticks in 3 s"
[ "$ticks" -lt 50 ] || fail "the relay spins while out of descriptors ($ticks ticks in 3 s)"
# Each worker retries once a second and says so: at most about 3 lines per worker in 3 s.
workers=$(nproc)
[ $((l1 - l0)) -le $((4 * workers)) ] ||
	fail "EMFILE logged $((l1 - l0)) times in 3 s by $workers workers: the log must not flood"

for fd in "${held[@]}"; do exec {fd}>&-; done
sleep 2
sink_start got "$P_OUT"
make_random "$T/a" 1
s_client_send "$P_TLS" "$T/a"
wait_size "$T/got" "$(file_size "$T/a")" 20 || fail "no service after descriptors were freed"
same_bytes "$T/a" "$T/got" "after the EMFILE episode"
stop_relay "$SERVER"
pass
