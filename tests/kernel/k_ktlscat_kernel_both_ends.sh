#!/usr/bin/env bash
# ktlscat send to ktlscat recv with both ends in the kernel, for each TLS 1.3 suite: sendfile
# into kTLS on one side, splice out of kTLS on the other; bytes checked by sha256 (and the
# summaries' own SHA-256 lines must agree), both summaries say tx=kernel rx=kernel, tls_stat
# shows two sockets with TX and RX keys and no decryption error.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/server.pem"
B=$KTLSRELAY_BIN

port=4533
for s in "${SUITES[@]}"; do
	set -- $s
	name=$1
	[ "$2" = -tls1_3 ] || continue
	rm -f "$WORK/got"
	tls_stat_snapshot "$WORK/stat" || fail "no tls_stat"
	"$B/ktlscat" recv 127.0.0.1:$port "$WORK/got" --cert "$WORK/server.pem" \
		>"$WORK/recv.out" 2>"$WORK/recv.err" &
	rpid=$!
	for i in $(seq 1 100); do
		grep -q "listening" "$WORK/recv.err" 2>/dev/null && break
		sleep 0.1
	done
	"$B/ktlscat" send "$WORK/c2s" 127.0.0.1:$port --ciphersuites "$3" --ktls on \
		>"$WORK/send.out" 2>"$WORK/send.err"
	src=$?
	wait $rpid
	rrc=$?
	cat "$WORK/send.out" "$WORK/recv.out"
	[ $src -eq 0 ] || { cat "$WORK/send.err" "$WORK/recv.err"; fail "$name: send exited $src"; }
	[ $rrc -eq 0 ] || { cat "$WORK/send.err" "$WORK/recv.err"; fail "$name: recv exited $rrc"; }
	same_bytes "$WORK/c2s" "$WORK/got" "$name ktlscat to ktlscat"
	for side in send recv; do
		grep -q "^ktlscat: $side result=ok bytes=$(size "$WORK/c2s") .*version=TLSv1.3 cipher=$3 tx=kernel rx=kernel" \
			"$WORK/$side.out" || fail "$name: $side summary is not ok/kernel/$3"
	done
	want=$(sha256sum <"$WORK/c2s" | cut -d' ' -f1)
	grep -q "^ktlscat: sha256=$want " "$WORK/send.out" || fail "$name: send summary sha256"
	grep -q "^ktlscat: sha256=$want " "$WORK/recv.out" || fail "$name: recv summary sha256"
	tls_stat_expect_offload "$WORK/stat" 2 || fail "$name: not offloaded on both ends"
	[ "$(tls_stat_delta "$WORK/stat" TlsDecryptError)" -eq 0 ] || fail "$name: decrypt errors"
	port=$((port + 1))
done
echo "PASS"
