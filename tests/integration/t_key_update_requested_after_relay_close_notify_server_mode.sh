#!/usr/bin/env bash
# The backend ends its stream early (1 KiB, then its half-close), so the relay (server mode)
# sends close_notify and shuts its TLS write half; the JSSE client (tests/peers/KeyUpdatePeer.java)
# goes on sending 32 MiB with a KeyUpdate asking for one back after every MiB. The relay must not
# answer (RFC 8446 section 6.1: nothing after close_notify) and must carry the whole upload:
# OpenSSL 3.0 still writes the answer from SSL_read, and sending it once failed with EPIPE and
# reset the transfer (`TLS read: TLS side: Broken pipe`, 2 of 8 MiB delivered).
#
# Host only (user path): the kTLS VM has no JDK, and a peer's KeyUpdate ends a kernel-path
# connection there (t_peer_key_update.sh).
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
head -c 1024 /dev/urandom >"$T/down.src"
duplex_server backend "$P_OUT" "$T/down.src" "$T/up.got"

# The peer waits 1 s before it sends: by then the relay has sent its close_notify.
jsse_peer jsse client "$P_TLS" "$T/ca.pem" - "$T/up.src" "$T/down.got" 1000
PEER=$SPAWN_PID
wait_pid "$PEER" 120 || fail "the JSSE client did not finish within 120 s"
[ "$WAIT_RC" -eq 0 ] || fail "the JSSE client failed (exit $WAIT_RC); relay: $(grep -o 'closed .*' "$SERVER_LOG")"
wait_pid "$DUPLEX_PID" 30 || fail "the backend did not see the end of the up stream"
same_bytes "$T/up.src" "$T/up.got" "up, with KeyUpdate requests after the relay's close_notify"
same_bytes "$T/down.src" "$T/down.got" "down, ended early"
n=$(jsse_key_updates jsse)
[ "$n" -ge $((SIZE_MB / 2)) ] || fail "the JSSE client sent $n KeyUpdates, expected about $SIZE_MB"
answers=$(grep -c 'Consuming KeyUpdate' "$T/jsse.err")
[ "$answers" -eq 0 ] || fail "the relay answered $answers KeyUpdates after its close_notify"
log "the JSSE client sent $n KeyUpdates asking for one back after the relay's close_notify; none answered"
wait_until 10 grep -q ' closed ' "$SERVER_LOG" || fail "the relay never logged the close"
log_expect "$SERVER_LOG" ' closed .*result=ok' '' "the relay's close"
stop_relay "$SERVER"
pass
