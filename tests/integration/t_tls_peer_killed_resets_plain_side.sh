#!/usr/bin/env bash
# The TLS peer dies mid-stream (kill -9 of a stunnel4 client): its socket closes without a
# close_notify, which TLS calls a truncation (RFC 8446 6.1), not an end of data. The relay
# server must pass that on as an error: the plaintext receiver behind it must see a reset
# (socat logs "Connection reset by peer"), not a clean end of stream, which would pass a cut file
# off as a whole one.
#
# Why this observes what it claims: the receiver (a socat that reads and never sends) has
# nothing unread at the relay, so a relay that merely close()s gives it a FIN, a clean end;
# only a deliberate reset (SO_LINGER 0) makes it report a reset.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
cat >"$T/peer.conf" <<CONF
$(peer_globals)
[peer]
client = yes
accept = 127.0.0.1:$P_IN
connect = 127.0.0.1:$P_TLS
CAfile = $T/ca.pem
verifyChain = yes
CONF
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
start_peer "$T/peer.conf" "$P_IN"; PEER=$RELAY_PID

sink_start up.got "$P_OUT"
# The sender delivers 2 MiB and then stays silent without closing: a transfer in mid-stream.
make_random "$T/a" 2
mkfifo "$T/feed"
(cat "$T/a"; exec sleep 120) >"$T/feed" &
track_pid $!
spawn sender socat -T 60 -u "OPEN:$T/feed,rdonly" "TCP4:127.0.0.1:$P_IN"
wait_size "$T/up.got" $((2 * 1024 * 1024)) 20 || fail "the first 2 MiB never arrived"

kill -KILL "$PEER"
wait_pid "$SINK_PID" 10 || fail "the receiver still waits 10 s after the TLS peer died"
log "receiver (socat) exited with $WAIT_RC: $(grep -E " [EW] " "$T/up.got.err")"
saw_reset up.got || fail "the receiver saw a clean end of stream after the TLS peer was killed"
log_expect "$SERVER_LOG" '\[server\] #[0-9]+ closed .*result=(reset|error)' '' "abort logged"
stop_relay "$SERVER"
pass
