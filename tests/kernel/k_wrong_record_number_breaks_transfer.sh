#!/usr/bin/env bash
# A key installed with its record number off by one must break the connection: proof that the
# other tests would catch a wrong count. RX: the kernel fails the first record with EBADMSG and
# counts TlsDecryptError. TX: openssl s_server cannot authenticate what we send.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files

port=4633
for s in "${SUITES[0]}" "${SUITES[3]}"; do
	set -- $s
	name=$1
	for dir in rx tx; do
		tls_stat_snapshot "$WORK/stat" || fail "no tls_stat"
		rm -f "$WORK/fifo"
		mkfifo "$WORK/fifo"
		openssl s_server -quiet -naccept 1 -accept $port -cert "$WORK/cert.pem" \
			-key "$WORK/key.pem" $(openssl_suite_args "$2" "$3") <"$WORK/fifo" \
			>"$WORK/got_c2s" 2>"$WORK/server.err" &
		spid=$!
		exec 3>"$WORK/fifo"
		echo "hello from s_server" >&3
		"$KTESTS/ktls_peer" --connect $port $(peer_suite_args "$2" "$3") --break-seq $dir \
			--send "$WORK/c2s" --recv "$WORK/got_s2c" >"$WORK/peer.out" 2>&1
		rc=$?
		exec 3>&-
		wait $spid
		cat "$WORK/peer.out"
		if [ $dir = rx ]; then
			[ $rc -eq 2 ] || fail "$name rx off by one: expected EBADMSG (exit 2), got $rc"
			tls_stat_expect "$WORK/stat" TlsDecryptError 1 || fail "$name: no TlsDecryptError"
		else
			[ -s "$WORK/got_c2s" ] && fail "$name tx off by one: s_server accepted our records"
			grep -Eiq "bad record mac|decrypt" "$WORK/server.err" ||
				{ cat "$WORK/server.err"; fail "$name tx off by one: s_server did not report bad records"; }
			echo "ok: $name tx off by one: s_server: $(grep -Eio 'bad record mac|decryption failed[a-z ]*' "$WORK/server.err" | head -1)"
		fi
		port=$((port + 1))
	done
done
echo "PASS"
