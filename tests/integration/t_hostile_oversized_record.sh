#!/usr/bin/env bash
# A handshake record longer than TLS allows (RFC 8446 5.1: at most 2^14 bytes of plaintext; the
# header says 18433) at the TLS port: closed at once, nothing forwarded, failure logged, the
# relay keeps serving.
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"

hostile_setup
{ printf '\x16\x03\x01\x48\x01\x01\x00\x47\xfd\x03\x03'; head -c 18427 /dev/urandom; } \
	>"$T/oversized.bin"
hostile "$T/oversized.bin" 2
log_expect "$SERVER_LOG" '\[server\] #[0-9]+ .*handshake failed' 'SSL_accept' \
	"handshake failure logged"
still_serving
pass
