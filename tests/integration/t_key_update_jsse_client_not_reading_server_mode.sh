#!/usr/bin/env bash
# A JSSE client (the JDK's TLS, tests/peers/KeyUpdatePeer.java, its key limit set to 1 MiB)
# sends 32 MiB through the relay in server mode with a KeyUpdate asking for one back after every
# MiB, and reads nothing until it has sent everything, while the backend sends it 32 MiB: the
# relay's TLS socket toward it is full whenever a KeyUpdate arrives. Both directions must arrive
# intact and the relay must log result=ok (it once reset with `TLS read: TLS side: Resource
# temporarily unavailable`, as it did with real JDK clients).
#
# Host only (user path): the kTLS VM has no JDK, and before Linux 6.14 a KeyUpdate ends a
# kernel-path connection by design (t_peer_key_update.sh).
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../peers/jsse.sh"

[ "$KTLS_MODE" = on ] && ! is_stunnel &&
	skip "kernel path: a peer's KeyUpdate ends the connection there (by design before Linux 6.14; t_peer_key_update.sh checks that end)"
jsse_build

SIZE_MB=$((MB < 32 ? MB : 32))
make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
make_random "$T/up.src" "$SIZE_MB"
make_random "$T/down.src" "$SIZE_MB"
duplex_server backend "$P_OUT" "$T/down.src" "$T/up.got"

# The peer waits 1 s before it sends: by then the backend has filled the relay's socket.
jsse_peer jsse client "$P_TLS" "$T/ca.pem" - "$T/up.src" "$T/down.got" 1000
PEER=$SPAWN_PID
wait_pid "$PEER" 120 || fail "the JSSE client did not finish within 120 s"
[ "$WAIT_RC" -eq 0 ] || fail "the JSSE client failed (exit $WAIT_RC); relay: $(grep -o 'closed .*' "$SERVER_LOG")"
wait_pid "$DUPLEX_PID" 30 || fail "the backend did not see the end of the up stream"
same_bytes "$T/up.src" "$T/up.got" "up, from a JSSE client sending KeyUpdate requests"
same_bytes "$T/down.src" "$T/down.got" "down, to a JSSE client that read nothing until it had sent all"
n=$(jsse_key_updates jsse)
[ "$n" -ge $((SIZE_MB / 2)) ] || fail "the JSSE client sent $n KeyUpdates, expected about $SIZE_MB"
log "the JSSE client sent $n KeyUpdates asking for one back"
wait_until 10 grep -q ' closed ' "$SERVER_LOG" || fail "the relay never logged the close"
log_expect "$SERVER_LOG" ' closed .*result=ok' '' "the relay's close"
stop_relay "$SERVER"
pass
