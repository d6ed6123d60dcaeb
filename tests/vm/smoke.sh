#!/usr/bin/env bash
# tests/vm/smoke.sh CIPHER [--wrong-key]: the harness's own test, in the VM. ktls_smoke moves
# bytes both ways over a loopback pair with kernel TLS keys of one suite (aes128, aes256,
# chacha20), and the kernel's counters must show the keys went in.
# With --wrong-key the receive key is wrong: the program must fail with EBADMSG and the kernel
# must count a decrypt error. This proves that a broken key install fails a test.
# Exit 0 pass, 1 fail.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tls_stat.sh"
bin=${KTLSRELAY_BUILD:-$here/../../build}/tests/ktls_smoke
cipher=$1
mode=${2:-}

snap=$(mktemp) || exit 1
trap 'rm -f "$snap" "$snap.out"' EXIT
tls_stat_snapshot "$snap" || exit 1

if [ "$mode" = --wrong-key ]; then
	"$bin" --cipher "$cipher" --mb 4 --wrong-key >"$snap.out" 2>&1
	rc=$?
	cat "$snap.out"
	[ $rc -eq 1 ] || { echo "FAIL: ktls_smoke --wrong-key exited $rc, expected 1"; exit 1; }
	grep -q EBADMSG "$snap.out" || { echo "FAIL: the failure was not EBADMSG"; exit 1; }
	tls_stat_expect "$snap" TlsDecryptError 1 || exit 1
	echo "PASS: a wrong receive key is refused (EBADMSG, TlsDecryptError counted)"
	exit 0
fi

"$bin" --cipher "$cipher" --mb "${KTLSRELAY_SMOKE_MB:-16}" || { echo "FAIL: ktls_smoke"; exit 1; }
# Two sockets, each with TX and RX keys.
tls_stat_expect_offload "$snap" 2 || { echo "FAIL: the kernel did not count the keys"; exit 1; }
tls_stat_expect_same "$snap" TlsDecryptError || { echo "FAIL: decrypt errors"; exit 1; }
echo "PASS"
