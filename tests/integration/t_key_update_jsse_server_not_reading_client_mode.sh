#!/usr/bin/env bash
# A JSSE server (the JDK's TLS, tests/peers/KeyUpdatePeer.java, its key limit set to 1 MiB)
# behind the relay in client mode sends 32 MiB with a KeyUpdate asking for one back after every
# MiB, and reads nothing until it has sent everything, while the plaintext client sends it 32 MiB:
# the relay's TLS socket toward it is full whenever a KeyUpdate arrives. Both directions must
# arrive intact and the relay must log result=ok (it once reset within the first few hundred KB,
# `TLS read: TLS side: Resource temporarily unavailable`, as it did with real JDK servers).
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
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
openssl pkcs12 -export -in "$T/server.crt" -inkey "$T/server.key" -out "$T/server.p12" \
	-passout pass:test 2>"$T/pkcs12.err" || fail "openssl pkcs12: $(cat "$T/pkcs12.err")"
relay_client_conf "$T/client.conf"
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID; CLIENT_LOG=$RELAY_LOG
make_random "$T/up.src" "$SIZE_MB"
make_random "$T/down.src" "$SIZE_MB"

# The peer waits 1 s after the handshake before it sends: by then the plaintext client has
# filled the relay's socket toward it.
jsse_peer jsse server "$P_TLS" "$T/ca.pem" "$T/server.p12" "$T/down.src" "$T/up.got" 1000
PEER=$SPAWN_PID
wait_until 30 grep -q '^listening' "$T/jsse.err" || fail "the JSSE server did not start"
duplex_client "$P_IN" "$T/up.src" "$T/down.got" ||
	fail "the plaintext client failed (socat $?); relay: $(grep -o 'closed .*' "$CLIENT_LOG")"
wait_pid "$PEER" 60 || fail "the JSSE server did not finish"
[ "$WAIT_RC" -eq 0 ] || fail "the JSSE server failed (exit $WAIT_RC); relay: $(grep -o 'closed .*' "$CLIENT_LOG")"
same_bytes "$T/up.src" "$T/up.got" "up, to a JSSE server that read nothing until it had sent all"
same_bytes "$T/down.src" "$T/down.got" "down, from a JSSE server sending KeyUpdate requests"
n=$(jsse_key_updates jsse)
[ "$n" -ge $((SIZE_MB / 2)) ] || fail "the JSSE server sent $n KeyUpdates, expected about $SIZE_MB"
log "the JSSE server sent $n KeyUpdates asking for one back"
wait_until 10 grep -q ' closed ' "$CLIENT_LOG" || fail "the relay never logged the close"
log_expect "$CLIENT_LOG" ' closed .*result=ok' '' "the relay's close"
stop_relay "$CLIENT"
pass
