#!/usr/bin/env bash
# A request/reply protocol over a relay client -> relay server chain: the client sends MB MiB
# and half-closes; the server reads until that end of stream, and only then sends an MB MiB
# reply. The relays must carry the half-close through TLS (close_notify) and keep the other
# direction open for the reply.
. "$(dirname "$0")/lib.sh"

setup_chain
make_random "$T/req" "$MB"
make_random "$T/rep" "$MB"

reply_server srv "$P_OUT" "$T/req.got" "$T/rep"
duplex_client "$P_IN" "$T/req" "$T/rep.got" || fail "client socat failed"
wait_pid "$REPLY_PID" 30 || fail "server side did not finish"
[ "$WAIT_RC" -eq 0 ] || fail "server socat exited with $WAIT_RC"
same_bytes "$T/req" "$T/req.got" "request"
same_bytes "$T/rep" "$T/rep.got" "reply after half-close"

stop_relay "$CLIENT"
stop_relay "$SERVER"
pass
