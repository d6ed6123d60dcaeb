#!/usr/bin/env bash
# Client mode, a TLS server that accepts the TCP connection and then never answers the
# ClientHello (tests/faults/holdserver --accept: a hung far end). The relay client must not hold
# its plaintext client forever: the handshake is cut at TIMEOUTbusy (3 s here; not before), the
# reason is logged, and the plaintext client sees a reset, not a clean end that would look like
# an empty but complete answer. (The server-mode mirror is t_hostile_silent_peer.sh.)
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
holdserver hung "$P_TLS" --accept
relay_client_conf "$T/client.conf" "TIMEOUTbusy = 3"
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID; CLIENT_LOG=$RELAY_LOG

head -c 1024 /dev/urandom >"$T/req"
mkfifo "$T/feed"
(cat "$T/req"; exec sleep 120) >"$T/feed" &
track_pid $!
t0=$(now_ms)
spawn plain socat -d -T 30 "OPEN:$T/feed,rdonly!!OPEN:$T/answer,wronly,creat,trunc" \
	"TCP4:127.0.0.1:$P_IN"
wait_pid "$SPAWN_PID" 20 || fail "the plaintext client is still connected 20 s later"
ms=$(($(now_ms) - t0))
log "the plaintext client's connection ended after $ms ms:" \
	"$(grep -E ' [EW] ' "$T/plain.err" | sed 's/.*socat\[[0-9]*\] //' | head -n 1)"
grep -q 'accepted connection 1' "$T/hung.err" || fail "the relay never reached the hung server"
[ "$ms" -ge 2500 ] || fail "cut after $ms ms, before TIMEOUTbusy = 3 s"
saw_reset plain || fail "the plaintext client saw a clean end, not a reset"
[ "$(file_size "$T/answer")" -eq 0 ] || fail "the plaintext client got bytes from a server that never spoke"
log_expect "$CLIENT_LOG" \
	'\[client\] #1 closed .*result=timeout why="timeout: handshake not done in TIMEOUTbusy=3s"' '' \
	"handshake timeout logged"
relay_alive "$CLIENT" "$CLIENT_LOG"
stop_relay "$CLIENT"
pass
