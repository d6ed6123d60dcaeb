#!/usr/bin/env bash
# checkHost = localhost on a relay client: the server's certificate (SAN DNS:localhost) passes,
# and MB MiB go each way intact.
. "$(dirname "$0")/lib.sh"

checkhost_setup localhost
xfer_up_down "$P_IN" "$P_OUT"
expect_tls13 "$CLIENT_LOG"
stop_relay "$CLIENT"
stop_relay "$PEER"
pass
