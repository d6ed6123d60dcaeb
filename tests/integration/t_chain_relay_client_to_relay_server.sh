#!/usr/bin/env bash
# A relay client feeding a relay server: plaintext in, TLS 1.3 between the two relays, plaintext
# out. MB MiB each way (one upload, one download), checked byte for byte.
. "$(dirname "$0")/lib.sh"

setup_chain
xfer_up_down "$P_IN" "$P_OUT"
expect_tls13 "$CLIENT_LOG"
expect_tls13 "$SERVER_LOG"
log_expect "$SERVER_LOG" 'closed .*to_plain=[0-9]+ .*result=ok' 'Connection closed' "close logged"
stop_relay "$CLIENT"
stop_relay "$SERVER"
pass
