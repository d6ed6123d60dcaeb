#!/usr/bin/env bash
# A peer that connects to the TLS port and says nothing: the relay closes it after TIMEOUTbusy
# (3 s here; not much earlier, not much later), logs a timeout, and keeps serving.
# vm-newest: no (configuration only: no handshake completes, no kTLS socket)
. "$(dirname "$0")/lib.sh"

hostile_setup
: >"$T/nothing"
hostile "$T/nothing" $((HOSTILE_BUSY + 3))
[ "$CLOSED_MS" -ge $((HOSTILE_BUSY * 1000 - 500)) ] ||
	fail "closed after $CLOSED_MS ms, before TIMEOUTbusy = $HOSTILE_BUSY s"
log_expect "$SERVER_LOG" '\[server\] #[0-9]+ .*timeout' 'timeout|Connection reset|SSL_accept' \
	"timeout logged"
still_serving
pass
