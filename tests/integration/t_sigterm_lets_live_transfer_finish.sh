#!/usr/bin/env bash
# SIGTERM stops accepting at once but lets a live transfer finish (TIMEOUTclose bounds the
# wait): the transfer in flight arrives intact, new connections are refused, and the relay
# then exits 0.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
cat >"$T/relay.conf" <<CONF
$(relay_globals)
TIMEOUTclose = 20
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CONF
start_relay "$T/relay.conf" "$P_TLS"; SERVER=$RELAY_PID

half=$((MB * 512 * 1024))
make_random "$T/live" "$MB"
head -c "$half" "$T/live" >"$T/live.1"
tail -c +$((half + 1)) "$T/live" >"$T/live.2"
sink_start live.got "$P_OUT"
mkfifo "$T/feed"
SPAWN_IN=$T/feed spawn live openssl s_client -connect "127.0.0.1:$P_TLS" -quiet -no_ign_eof \
	-nocommands -CAfile "$T/ca.pem"
LIVE=$SPAWN_PID
exec 7>"$T/feed"
cat "$T/live.1" >&7
wait_size "$T/live.got" "$half" 20 || fail "the first half never arrived"

kill -TERM "$SERVER"
sleep 0.5
# A new connection must be refused, not left waiting in a backlog nobody accepts from.
t0=$(now_ms)
timeout 5 openssl s_client -connect "127.0.0.1:$P_TLS" -CAfile "$T/ca.pem" </dev/null \
	>"$T/late.out" 2>&1
rc=$?
keep_log "$T/late.out"
log "a connection after SIGTERM: s_client exited $rc after $(($(now_ms) - t0)) ms"
[ $rc -ne 124 ] || fail "a connection after SIGTERM hangs (the socket still listens)"
grep -q "Server certificate\\|Verification: OK" "$T/late.out" &&
	fail "a connection after SIGTERM was served"
relay_alive "$SERVER" "$RELAY_LOG"

cat "$T/live.2" >&7
exec 7>&-
wait_pid "$LIVE" 30 || fail "the live s_client did not finish"
wait_pid "$SINK_PID" 30 || fail "the backend never saw the end of the live transfer"
same_bytes "$T/live" "$T/live.got" "live transfer across SIGTERM"
wait_pid "$SERVER" 20 || fail "the relay did not exit after its last transfer"
[ "$WAIT_RC" -eq 0 ] || fail "the relay exited with $WAIT_RC"
pass
