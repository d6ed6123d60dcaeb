#!/usr/bin/env bash
# ktlscat send -> relay server -> plaintext sink: ktlscat verifies the relay's certificate (CA,
# host name), the file arrives byte for byte, ktlscat's summary says ok with the whole size,
# TLS 1.3, its SHA-256, and where its crypto ran (kernel in the kTLS VM, user elsewhere).
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"
# In the kTLS VM the data must go through the kernel, and tls_stat must show it; on a host
# without kTLS through OpenSSL, with the reason in the summary.
IN_KTLS=0
[ "${KTLSRELAY_IN_VM:-0}" = 1 ] && [ -r /proc/net/tls_stat ] && IN_KTLS=1
MODE=user
[ $IN_KTLS = 1 ] && MODE=kernel
[ $IN_KTLS = 1 ] && . "$LIB_DIR/../vm/tls_stat.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
make_random "$T/in" "$MB"
spawn sink socat -u "TCP4-LISTEN:$P_OUT,bind=127.0.0.1,reuseaddr" "OPEN:$T/got,wronly,creat,trunc"
SINK=$SPAWN_PID
wait_port "$P_OUT" 5 || fail "sink not listening"
cat >"$T/server.conf" <<-CONF
	$(relay_globals)
	[server]
	accept = 127.0.0.1:$P_TLS
	connect = 127.0.0.1:$P_OUT
	cert = $T/server.pem
CONF
start_relay "$T/server.conf" "$P_TLS"
SERVER=$RELAY_PID
[ $IN_KTLS = 1 ] && { tls_stat_snapshot "$T/stat" || fail "tls_stat"; }

"$KTLSCAT" send "$T/in" "127.0.0.1:$P_TLS" --CAfile "$T/ca.pem" --verify 2 \
	--check-host localhost >"$T/send.out" 2>"$T/send.err"
rc=$?
keep_log "$T/send.out"
[ $rc -eq 0 ] || fail "ktlscat send exited $rc: $(cat "$T/send.out")"
wait_pid "$SINK" 30 || fail "the sink never saw the end of the stream"
same_bytes "$T/in" "$T/got" "ktlscat send through the relay"
grep -Eq "^ktlscat: send result=ok bytes=$(file_size "$T/in") .*version=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ tx=$MODE rx=$MODE" \
	"$T/send.out" || fail "summary: $(cat "$T/send.out")"
grep -q "^ktlscat: sha256=$(sha "$T/in") " "$T/send.out" || fail "summary sha256"
expect_tls13 "$RELAY_LOG"
log_expect "$RELAY_LOG" 'closed .*result=ok' '' "the relay closed cleanly"
if [ $IN_KTLS = 1 ]; then
	n=2
	is_stunnel && n=1
	tls_stat_expect_offload "$T/stat" $n || fail "not offloaded"
fi
stop_relay "$SERVER"
pass
