#!/usr/bin/env bash
# The peer's KeyUpdate reaches a kTLS RX socket as a handshake control record: ktls_peer must
# classify it (KeyUpdate, update_not_requested / update_requested), stop there (kernels before
# 6.14 cannot take a new RX key), and every byte sent before it must have arrived intact.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files

# A write into the fifo after s_server died must fail the test, not kill the script.
trap '' PIPE
port=4733
for cmd in k K; do
	want=update_not_requested
	[ $cmd = K ] && want=update_requested
	rm -f "$WORK/fifo"
	mkfifo "$WORK/fifo"
	# Not -quiet: s_server takes a line "k" or "K" on stdin as "send a KeyUpdate".
	openssl s_server -naccept 1 -accept $port -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
		-tls1_3 <"$WORK/fifo" >"$WORK/server.out" 2>&1 &
	spid=$!
	exec 3>"$WORK/fifo"
	"$KTESTS/ktls_peer" --connect $port --recv "$WORK/got" >"$WORK/peer.out" 2>&1 &
	ppid=$!
	for _ in $(seq 100); do grep -q "^state:" "$WORK/peer.out" && break; sleep 0.1; done
	printf 'before the key update\n' >&3
	sleep 0.5
	printf '%s\n' $cmd >&3
	wait $ppid
	rc=$?
	exec 3>&-
	wait $spid
	cat "$WORK/peer.out"
	[ $rc -eq 3 ] || { tail -20 "$WORK/server.out"; fail "KeyUpdate ($cmd): expected exit 3, got $rc"; }
	grep -q "KeyUpdate ($want)" "$WORK/peer.out" || fail "KeyUpdate ($cmd) not classified as $want"
	[ "$(cat "$WORK/got")" = "before the key update" ] || fail "bytes before the KeyUpdate lost"
	echo "ok: KeyUpdate ($want) classified, earlier bytes intact"
	port=$((port + 1))
done
echo "PASS"
