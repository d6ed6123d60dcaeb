#!/usr/bin/env bash
# The seed's "sending data to z/OS" stunnel.conf, as written (chroot, setuid/setgid nobody, pid
# file in the chroot, TCP_NODELAY both sides, client mode, TLS 1.3 only), started the way the
# seed starts it (a daemon), carries MB MiB each way to a TLS 1.3 server (stunnel4, standing in
# for z/OS AT-TLS).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "chroot and setuid need root"
grep -q "^nobody:" /etc/passwd || skip "no user nobody"
make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
seed_conf seed_sending.conf "$T/stunnel.conf" "$T/client.pem" "$P_IN" 127.0.0.1 "$P_TLS"
cat >"$T/zos.conf" <<CONF
$(peer_globals)
[zos]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersion = TLSv1.3
CONF
start_peer "$T/zos.conf" "$P_TLS"; PEER=$RELAY_PID; PEER_LOG=$RELAY_LOG

start_daemon "$T/stunnel.conf" "$CHROOT/stunnel.pid" "$P_IN"
expect_jailed "$DAEMON_PID" "$CHROOT" nobody
xfer_up_down "$P_IN" "$P_OUT"
grep -q "TLSv1.3 ciphersuite" "$PEER_LOG" || fail "the z/OS stand-in did not log TLS 1.3"
stop_daemon "$DAEMON_PID"
stop_relay "$PEER"
pass
