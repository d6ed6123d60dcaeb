#!/usr/bin/env bash
# SIGTERM with a transfer that outlives TIMEOUTclose (3 s here): its TLS sender has sent half and
# then stalls without closing. The relay must not wait for it forever, nor end it quietly: once
# TIMEOUTclose has passed it resets both sides (the plaintext receiver sees a reset, not a clean
# end that would pass half a file off as whole; the TLS peer sees its connection reset), logs
# why, and exits 0. What reached the receiver is the half that was sent, intact.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf" "TIMEOUTclose = 3"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
sink_start got "$P_OUT"

make_random "$T/half" 1
mkfifo "$T/feed"
(cat "$T/half"; exec sleep 120) >"$T/feed" &
track_pid $!
SPAWN_IN=$T/feed spawn s_client openssl s_client -connect "127.0.0.1:$P_TLS" -quiet \
	-no_ign_eof -nocommands -CAfile "$T/ca.pem" -verify_return_error -verify_hostname localhost
S_CLIENT=$SPAWN_PID
wait_size "$T/got" "$(file_size "$T/half")" 30 || fail "the first half never arrived"

t0=$(now_ms)
kill -TERM "$SERVER"
wait_pid "$SINK_PID" 30 || fail "the receiver is still connected 30 s after SIGTERM"
ms=$(($(now_ms) - t0))
log "the receiver's connection ended $ms ms after SIGTERM: $(grep -E ' [EW] ' "$T/got.err" | head -n 1)"
saw_reset got || fail "the receiver saw a clean end of a stalled transfer cut by TIMEOUTclose"
[ "$ms" -ge 2000 ] ||
	fail "the stalled transfer was cut $ms ms after SIGTERM, before TIMEOUTclose = 3 s"
same_bytes "$T/half" "$T/got" "the half sent before the stall"
log_expect "$SERVER_LOG" 'closed .*result=timeout why="relay stopping: TIMEOUTclose=3s passed"' \
	'' "the forced close logged with its reason"
wait_pid "$S_CLIENT" 10 || fail "the TLS peer is still connected after the relay cut it"
grep -Eq 'errno=104|reset by peer|Connection reset' "$T/s_client.err" ||
	fail "the TLS peer saw no reset: $(tail -n 3 "$T/s_client.err")"
log "the TLS peer: $(grep -Eo 'errno=104|reset by peer|Connection reset' "$T/s_client.err" | head -n 1)"
wait_pid "$SERVER" 20 || fail "the relay did not exit after the forced close"
[ "$WAIT_RC" -eq 0 ] || fail "the relay exited with $WAIT_RC"
pass
