# tests/kernel/lib.sh - shared by the k_*.sh scenarios (sourced). They run in the VM (tests/vm)
# with KTLSRELAY_BIN=/build/bin; the test programs are in $KTLSRELAY_BIN/../tests.
# Exit codes: 0 pass, 1 fail, 77 skip.

set -u
KTESTS=$(cd "${KTLSRELAY_BIN:?KTLSRELAY_BIN not set}/../tests" && pwd)
KREPO=${KTLSRELAY_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=$(mktemp -d /tmp/ktest.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
. "$KREPO/tests/vm/tls_stat.sh"

fail() {
	echo "FAIL: $*"
	exit 1
}

# Skip (77) where the kernel has no TLS ULP: these tests only mean something with kTLS.
require_ktls() {
	"$KTESTS/ktls_probe_print" || exit 77
}

# make_files: random payloads in each direction (sizes differ so a swap would show) and an
# ECDSA certificate for the server side.
make_files() {
	local mb=${KTLSRELAY_TEST_MB:-8}
	head -c $((mb * 1024 * 1024)) /dev/urandom >"$WORK/c2s"
	head -c $((mb * 1024 * 1024 + 12345)) /dev/urandom >"$WORK/s2c"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=localhost -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
		fail "cannot make a certificate"
}

size() {
	stat -c %s "$1"
}

# same_bytes SENT RECEIVED WHAT: sha256 of both files must match.
same_bytes() {
	local a b
	a=$(sha256sum <"$1" | cut -d' ' -f1)
	b=$(sha256sum <"$2" | cut -d' ' -f1)
	[ "$a" = "$b" ] || fail "$3: sha256 differs ($(size "$1") bytes sent, $(size "$2") received)"
	echo "ok: $3: $(size "$1") bytes, sha256 $a"
}

# The three TLS 1.3 suites and the two TLS 1.2 AES-GCM ones: "NAME VERSION-FLAG SUITE".
SUITES=(
	"tls13-aes128 -tls1_3 TLS_AES_128_GCM_SHA256"
	"tls13-aes256 -tls1_3 TLS_AES_256_GCM_SHA384"
	"tls13-chacha20 -tls1_3 TLS_CHACHA20_POLY1305_SHA256"
	"tls12-aes128 -tls1_2 ECDHE-ECDSA-AES128-GCM-SHA256"
	"tls12-aes256 -tls1_2 ECDHE-ECDSA-AES256-GCM-SHA384"
)

# suite_args VERSION-FLAG SUITE: the openssl s_server/s_client arguments and ktls_peer's.
openssl_suite_args() {
	if [ "$1" = -tls1_3 ]; then echo "-tls1_3 -ciphersuites $2"; else echo "-tls1_2 -cipher $2"; fi
}
peer_suite_args() {
	if [ "$1" = -tls1_3 ]; then echo "--suite $2"; else echo "--tls12 --suite $2"; fi
}
