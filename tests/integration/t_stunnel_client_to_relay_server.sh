#!/usr/bin/env bash
# A real stunnel4 client talking to the relay in server mode: MB MiB each way, checked.
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
peer_client_conf "$T/peer.conf" "sslVersion = TLSv1.3"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
start_peer "$T/peer.conf" "$P_IN"; PEER=$RELAY_PID; PEER_LOG=$RELAY_LOG

xfer_up_down "$P_IN" "$P_OUT"
expect_tls13 "$SERVER_LOG"
grep -q "Certificate accepted at depth=0" "$PEER_LOG" || fail "the stunnel peer did not verify us"
stop_relay "$PEER"
stop_relay "$SERVER"
pass
