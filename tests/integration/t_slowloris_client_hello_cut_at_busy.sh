#!/usr/bin/env bash
# A slowloris: a real ClientHello (openssl s_client's) trickled one byte a second through
# faultproxy, so bytes keep arriving but the handshake never completes. Progress on the socket
# must not hold the slot: the relay cuts the connection once the handshake has taken TIMEOUTbusy
# (3 s here), logs a handshake timeout, forwards nothing, and keeps serving.
# (A client that sends nothing at all is t_hostile_silent_peer.sh.)
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

hostile_setup
pick_port; P_FP=$PORT
faultproxy fp "$P_FP" "$P_TLS" --dir up --after 0 --trickle 1000
hold
t0=$(now_ms)
SPAWN_IN=$HOLD spawn slow openssl s_client -connect "127.0.0.1:$P_FP" -CAfile "$T/ca.pem" \
	-verify_return_error
wait_pid "$SPAWN_PID" $((HOSTILE_BUSY + 10)) ||
	fail "the trickling client is still connected $((HOSTILE_BUSY + 10)) s later"
ms=$(($(now_ms) - t0))
grep -q 'trickling one byte every' "$T/fp.err" ||
	fail "the injector never trickled: the test proves nothing"
sent=$(grep -o 'reset.*\|end of stream after [0-9]* bytes' "$T/fp.err" | head -n 1)
log "the slowloris was cut after $ms ms (faultproxy: $sent)"
[ "$ms" -ge $((HOSTILE_BUSY * 1000 - 500)) ] ||
	fail "cut after $ms ms, before TIMEOUTbusy = $HOSTILE_BUSY s"
log_expect "$SERVER_LOG" \
	"\\[server\\] #1 closed .*result=timeout why=\"timeout: handshake not done in TIMEOUTbusy=${HOSTILE_BUSY}s\"" \
	'' "handshake timeout logged"
still_serving
pass
