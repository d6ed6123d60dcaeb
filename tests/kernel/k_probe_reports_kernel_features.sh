#!/usr/bin/env bash
# ktls_probe() on a kTLS kernel: the ULP, the three TLS 1.3 ciphers, RX and RX no-pad (6.1
# has both), formatted in the one line the relay prints with --version.
. "$(dirname "$0")/lib.sh"
line=$("$KTESTS/ktls_probe_print")
rc=$?
echo "$line"
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || fail "probe exited $rc"
for want in "kTLS: yes" aes-gcm-128 aes-gcm-256 chacha20-poly1305 "rx=yes" "rx_no_pad=yes"; do
	grep -q -- "$want" <<<"$line" || fail "probe line lacks '$want'"
done
echo "PASS"
