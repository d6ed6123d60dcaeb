#!/usr/bin/env bash
# ktlscat send -> ktlscat recv for each TLS 1.3 suite, the sender verifying the receiver (CA,
# host name): bytes checked, both summaries ok with the suite asked for, the same SHA-256 on
# both sides, and the mode (kernel both ways in the kTLS VM, with tls_stat showing two sockets).
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
make_random "$T/in" "$MB"
want=$(sha "$T/in")
for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	pick_port
	rm -f "$T/got"
	spawn "recv.$suite" "$KTLSCAT" recv "127.0.0.1:$PORT" "$T/got" --cert "$T/server.pem"
	RECV=$SPAWN_PID
	wait_port "$PORT" 5 || fail "$suite: ktlscat recv not listening"
	[ $IN_KTLS = 1 ] && { tls_stat_snapshot "$T/stat" || fail "tls_stat"; }
	"$KTLSCAT" send "$T/in" "127.0.0.1:$PORT" --ciphersuites "$suite" --CAfile "$T/ca.pem" \
		--verify 2 --check-host localhost >"$T/send.$suite.out" 2>"$T/send.$suite.err"
	rc=$?
	wait_pid "$RECV" 30 || fail "$suite: ktlscat recv did not finish"
	[ $rc -eq 0 ] || fail "$suite: send exited $rc: $(cat "$T/send.$suite.out")"
	[ "$WAIT_RC" -eq 0 ] || fail "$suite: recv exited $WAIT_RC: $(cat "$T/recv.$suite.out")"
	same_bytes "$T/in" "$T/got" "$suite"
	for side in send recv; do
		f=$T/$side.$suite.out
		grep -Eq "^ktlscat: $side result=ok bytes=$(file_size "$T/in") .*version=TLSv1\.3 cipher=$suite tx=$MODE rx=$MODE" \
			"$f" || fail "$suite: $side summary: $(cat "$f")"
		grep -q "^ktlscat: sha256=$want " "$f" || fail "$suite: $side summary sha256"
	done
	if [ $IN_KTLS = 1 ]; then
		tls_stat_expect_offload "$T/stat" 2 || fail "$suite: not offloaded on both ends"
	fi
done
pass
