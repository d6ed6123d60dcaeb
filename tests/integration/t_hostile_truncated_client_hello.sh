#!/usr/bin/env bash
# The first half of a real ClientHello (captured from openssl s_client), then the peer closes:
# the relay closes at once, forwards nothing, logs the failure, and keeps serving.
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"

hostile_setup
pick_port; P_CAP=$PORT
spawn capture socat -u "TCP4-LISTEN:$P_CAP,bind=127.0.0.1,reuseaddr" \
	"OPEN:$T/hello.bin,wronly,creat"
CAP=$SPAWN_PID
wait_port "$P_CAP" 5 || fail "capture not listening"
hold
SPAWN_IN=$HOLD spawn s_client.capture openssl s_client -connect "127.0.0.1:$P_CAP" -tls1_3
wait_size "$T/hello.bin" 100 5 || fail "no ClientHello captured"
sleep 0.2
kill "$SPAWN_PID" "$CAP" 2>/dev/null
size=$(file_size "$T/hello.bin")
head -c $((size / 2)) "$T/hello.bin" >"$T/truncated.bin"
log "ClientHello: $size bytes, sending $((size / 2))"

# Sent whole, then the end of stream: a relay that waits for the rest must notice the close.
socat -T 10 -t 10 "OPEN:$T/truncated.bin,rdonly!!OPEN:$T/truncated.resp,wronly,creat" \
	"TCP4:127.0.0.1:$P_TLS" 2>>"$T/clients.err" || true
# And sent whole without an end: the relay waits for the rest, at most TIMEOUTbusy.
hostile "$T/truncated.bin" $((HOSTILE_BUSY + 3))
log_expect "$SERVER_LOG" '\[server\] #[0-9]+ .*handshake failed' 'SSL_accept' \
	"handshake failure logged"
still_serving
pass
