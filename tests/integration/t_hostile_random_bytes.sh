#!/usr/bin/env bash
# Random bytes at the TLS port: the relay closes the connection at once (no waiting for
# TIMEOUTbusy), forwards nothing to the backend, logs a handshake failure, and keeps serving.
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"

hostile_setup
# A first byte of 0x16 would read as a handshake record header; keep it garbage.
{ printf '\x01'; head -c 4095 /dev/urandom; } >"$T/random.bin"
hostile "$T/random.bin" 2
log_expect "$SERVER_LOG" '\[server\] #[0-9]+ .*handshake failed' 'SSL_accept' \
	"handshake failure logged"
still_serving
pass
