#!/usr/bin/env bash
# A plaintext HTTP request at the TLS port: closed at once, nothing forwarded, failure logged,
# the relay keeps serving.
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"

hostile_setup
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ktlsrelay-test\r\n\r\n' >"$T/http.txt"
hostile "$T/http.txt" 2
log_expect "$SERVER_LOG" '\[server\] #[0-9]+ .*handshake failed' 'SSL_accept' \
	"handshake failure logged"
still_serving
pass
