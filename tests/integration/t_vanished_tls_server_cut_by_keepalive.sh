#!/usr/bin/env bash
# A TLS server that vanishes without a trace (its link goes down: no FIN, no RST ever reaches the
# relay) is found by TCP keepalive, when the configuration asks for it, long before TIMEOUTidle:
# the seed's sending side (client mode) with `socket = r:SO_KEEPALIVE=1` and 1 s probes. The
# close line names the socket error, the plaintext client is reset (never a clean end), and the
# 64 KiB sent before were delivered intact.
#
# Nothing but keepalive (or TIMEOUTidle) can tell such a peer from an idle one. The 10,000
# connection load test met this in the kTLS VM: orphaned sockets the guest kernel aborted under
# its tcp_max_orphans limit, their RSTs lost with the FINs in the loopback backlog (README,
# "Limits").
#
# The server sits in a network namespace of its own behind a veth pair; the test runs in a
# namespace of its own too (it re-executes itself under `unshare -n`), so nothing of the host's
# network is touched.
if [ -z "${KTLSRELAY_OWN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	KTLSRELAY_OWN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
# Loopback first: lib.sh's kTLS probe (with KTLSRELAY_TEST_KTLS=on) needs it.
[ -z "${KTLSRELAY_OWN_NETNS:-}" ] || ip link set lo up
. "$(dirname "$0")/lib.sh"

[ -n "${KTLSRELAY_OWN_NETNS:-}" ] || skip "needs network namespaces (unshare -n: root or CAP_SYS_ADMIN)"
ip link show lo | grep -q UP || fail "cannot bring loopback up in the test's namespace"

NEAR=10.77.0.1
FAR=10.77.0.2
make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT

# The TLS server's namespace: its shell waits for its end of the veth pair, sets it up, starts
# s_server and says so once it listens.
hold
cat >"$T/far.sh" <<-EOF
	for i in \$(seq 1 300); do ip link show v1 >/dev/null 2>&1 && break; sleep 0.1; done
	ip link set lo up && ip addr add $FAR/24 dev v1 && ip link set v1 up || exit 1
	openssl s_server -quiet -nbio -naccept 1 -accept $FAR:$P_TLS -tls1_3 \\
		-cert $T/server.crt -key $T/server.key <$HOLD >$T/got &
	echo \$! >$T/far.pid
	for i in \$(seq 1 300); do
		ss -ltn | grep -q "$FAR:$P_TLS " && { touch $T/far.listening; break; }
		sleep 0.1
	done
	wait
EOF
spawn far unshare -n bash "$T/far.sh"
FAR_PID=$SPAWN_PID
# Its end of the pair must go into its namespace, not into ours before unshare has run.
own_netns() { [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }
wait_until 30 own_netns "$FAR_PID" ||
	fail "the TLS server's shell never got a network namespace of its own"
ip link add v0 type veth peer name v1 netns "$FAR_PID" ||
	fail "cannot make a veth pair (module veth?): $(ip link add v9 type veth peer name v8 2>&1)"
ip addr add "$NEAR/24" dev v0 && ip link set v0 up || fail "cannot set up v0"
wait_until 30 test -e "$T/far.listening" ||
	fail "s_server does not listen on $FAR:$P_TLS: $(cat "$T/far.err")"
track_pid "$(cat "$T/far.pid")"

# Probes after 1 s of silence, 1 s apart, two unanswered end it; TIMEOUTidle far beyond that.
TLS_HOST=$FAR relay_client_conf "$T/client.conf" "TIMEOUTidle = 120
socket = r:SO_KEEPALIVE=1
socket = r:TCP_KEEPIDLE=1
socket = r:TCP_KEEPINTVL=1
socket = r:TCP_KEEPCNT=2"
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID; CLIENT_LOG=$RELAY_LOG

head -c 65536 /dev/urandom >"$T/some"
mkfifo "$T/feed"
(cat "$T/some"; exec sleep 120) >"$T/feed" &
track_pid $!
SPAWN_IN=$T/feed spawn plain socat -d -T 120 - "TCP4:127.0.0.1:$P_IN"
PLAIN=$SPAWN_PID
wait_size "$T/got" 65536 30 || fail "the 64 KiB never reached the TLS server"
same_bytes "$T/some" "$T/got" "the bytes before the server vanished"

# The server's link goes down: from now on nothing it sends (not even a reset) arrives.
ip link set v0 down || fail "cannot take v0 down"
t0=$(now_ms)
wait_pid "$PLAIN" 30 || fail "30 s after the TLS server vanished the connection is still open"
ms=$(($(now_ms) - t0))
log "the connection to the vanished server ended $ms ms after its link went down"
saw_reset plain || fail "the plaintext client saw a clean end of a connection whose server vanished"
if ! is_stunnel; then
	log_expect "$CLIENT_LOG" 'closed .*result=reset why="TLS (read|write): .*(Connection timed out|No route to host)' '' \
		"the keepalive failure logged as the reason"
fi
relay_alive "$CLIENT" "$CLIENT_LOG"
stop_relay "$CLIENT"
pass
