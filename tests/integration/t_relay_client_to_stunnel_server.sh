#!/usr/bin/env bash
# The relay in client mode talking to a real stunnel4 server: MB MiB each way, checked.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
cat >"$T/peer.conf" <<CONF
$(peer_globals)
[peer]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersion = TLSv1.3
CONF
relay_client_conf "$T/client.conf"
start_peer "$T/peer.conf" "$P_TLS"; PEER=$RELAY_PID; PEER_LOG=$RELAY_LOG
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID

xfer_up_down "$P_IN" "$P_OUT"
expect_tls13 "$RELAY_LOG"
grep -q "TLSv1.3 ciphersuite" "$PEER_LOG" || fail "stunnel peer did not log TLS 1.3"
stop_relay "$CLIENT"
stop_relay "$PEER"
pass
