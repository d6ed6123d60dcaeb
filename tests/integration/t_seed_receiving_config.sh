#!/usr/bin/env bash
# The seed's "sending data to Linux" stunnel.conf, as written (chroot, setuid/setgid nobody, pid
# file in the chroot, TCP_NODELAY both sides, server mode on a bare port, TLS 1.3 only), started
# the way the seed starts it (a daemon), carries MB MiB each way from a TLS 1.3 client (stunnel4,
# standing in for z/OS AT-TLS).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "chroot and setuid need root"
grep -q "^nobody:" /etc/passwd || skip "no user nobody"
make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
seed_conf seed_receiving.conf "$T/stunnel.conf" "$T/server.pem" "$P_TLS" unused "$P_OUT"
cat >"$T/zos.conf" <<CONF
$(peer_globals)
[zos]
client = yes
accept = 127.0.0.1:$P_IN
connect = 127.0.0.1:$P_TLS
CAfile = $T/ca.pem
verifyChain = yes
checkHost = localhost
sslVersion = TLSv1.3
CONF

start_daemon "$T/stunnel.conf" "$CHROOT/stunnel.pid" "$P_TLS"
expect_jailed "$DAEMON_PID" "$CHROOT" nobody
start_peer "$T/zos.conf" "$P_IN"; PEER=$RELAY_PID; PEER_LOG=$RELAY_LOG
xfer_up_down "$P_IN" "$P_OUT"
grep -q "TLSv1.3 ciphersuite" "$PEER_LOG" || fail "the z/OS stand-in did not log TLS 1.3"
stop_relay "$PEER"
stop_daemon "$DAEMON_PID"
pass
