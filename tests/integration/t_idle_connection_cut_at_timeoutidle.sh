#!/usr/bin/env bash
# An established connection that goes silent both ways (the TLS client sent 64 KiB and then
# nothing, without closing; the backend never sends) is ended at TIMEOUTidle (3 s here; not
# before): the close line gives the reason, both sides are reset (the backend sees a reset, not a
# clean end), and the 64 KiB sent before the silence arrived intact.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf" "TIMEOUTidle = 3"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
sink_start got "$P_OUT"

head -c 65536 /dev/urandom >"$T/some"
mkfifo "$T/feed"
(cat "$T/some"; exec sleep 120) >"$T/feed" &
track_pid $!
SPAWN_IN=$T/feed spawn s_client openssl s_client -connect "127.0.0.1:$P_TLS" -quiet \
	-no_ign_eof -nocommands -CAfile "$T/ca.pem" -verify_return_error -verify_hostname localhost
S_CLIENT=$SPAWN_PID
wait_size "$T/got" 65536 30 || fail "the 64 KiB never arrived"
t0=$(now_ms)
wait_pid "$SINK_PID" 30 || fail "the idle connection is still open 30 s later"
ms=$(($(now_ms) - t0))
log "the idle connection was cut $ms ms after its last bytes arrived"
[ "$ms" -ge 2000 ] || fail "cut $ms ms after the last bytes, before TIMEOUTidle = 3 s"
saw_reset got || fail "the backend saw a clean end of an idle connection the relay cut"
same_bytes "$T/some" "$T/got" "the bytes before the silence"
log_expect "$SERVER_LOG" 'closed .*result=timeout why="timeout: no progress in TIMEOUTidle=3s"' '' \
	"the idle timeout logged"
wait_pid "$S_CLIENT" 10 || fail "the TLS client is still connected after the relay cut it"
grep -Eq 'errno=104|reset by peer' "$T/s_client.err" ||
	fail "the TLS client saw no reset: $(tail -n 3 "$T/s_client.err")"
stop_relay "$SERVER"
pass
