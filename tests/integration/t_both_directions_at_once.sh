#!/usr/bin/env bash
# Both directions at once on one connection through a relay client -> relay server chain: each
# side sends MB MiB while receiving the other's, then half-closes; both byte streams must arrive
# intact however the two ends interleave.
. "$(dirname "$0")/lib.sh"

setup_chain
make_random "$T/a" "$MB"
make_random "$T/b" "$MB"

duplex_server srv "$P_OUT" "$T/b" "$T/a.got"
duplex_client "$P_IN" "$T/a" "$T/b.got" || fail "client socat failed"
wait_pid "$DUPLEX_PID" 30 || fail "server side did not finish"
[ "$WAIT_RC" -eq 0 ] || fail "server socat exited with $WAIT_RC"
same_bytes "$T/a" "$T/a.got" "client to server"
same_bytes "$T/b" "$T/b.got" "server to client"

stop_relay "$CLIENT"
stop_relay "$SERVER"
pass
