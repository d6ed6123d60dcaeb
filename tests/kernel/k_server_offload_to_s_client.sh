#!/usr/bin/env bash
# The reverse of k_client_offload_to_s_server: a ktls/ server (ktls_peer --listen) offloads
# after its handshake with a real openssl s_client. In TLS 1.3 the server has already sent its
# NewSessionTickets under the new key, so its TX record number starts at 2: a wrong count would
# break the transfer. TLS 1.3 runs with TLS_RX_EXPECT_NO_PAD, which the socket state must show.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files

port=4533
for s in "${SUITES[@]}"; do
	set -- $s
	name=$1
	tls_stat_snapshot "$WORK/stat" || fail "no tls_stat"
	nopad=""
	[ "$2" = -tls1_3 ] && nopad=--no-pad
	rm -f "$WORK/ready"
	"$KTESTS/ktls_peer" --listen $port --ready "$WORK/ready" --cert "$WORK/cert.pem" \
		--key "$WORK/key.pem" $(peer_suite_args "$2" "$3") $nopad --send "$WORK/s2c" \
		--recv "$WORK/got_c2s" --expect "$(size "$WORK/c2s")" >"$WORK/peer.out" 2>&1 &
	ppid=$!
	for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
	# -quiet implies -ign_eof: s_client sends the file, then reads until the server closes.
	openssl s_client -quiet -connect 127.0.0.1:$port $(openssl_suite_args "$2" "$3") \
		<"$WORK/c2s" >"$WORK/got_s2c" 2>"$WORK/client.err"
	crc=$?
	wait $ppid
	rc=$?
	cat "$WORK/peer.out"
	[ $rc -eq 0 ] || { cat "$WORK/client.err"; fail "$name: ktls_peer exited $rc"; }
	[ $crc -eq 0 ] || { cat "$WORK/client.err"; fail "$name: s_client exited $crc"; }
	same_bytes "$WORK/c2s" "$WORK/got_c2s" "$name client to server"
	same_bytes "$WORK/s2c" "$WORK/got_s2c" "$name server to client"
	grep -q "^state: tx=kernel rx=kernel" "$WORK/peer.out" || fail "$name: socket state"
	tls_stat_expect_offload "$WORK/stat" 1 || fail "$name: not offloaded"
	if [ "$2" = -tls1_3 ]; then
		grep -q "tx_seq=2 " "$WORK/peer.out" || fail "$name: server TX should start after 2 tickets"
		grep -q "rx_no_pad" "$WORK/peer.out" || fail "$name: TLS_RX_EXPECT_NO_PAD not set"
	fi
	port=$((port + 1))
done
echo "PASS"
