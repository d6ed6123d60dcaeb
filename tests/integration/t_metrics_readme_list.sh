#!/usr/bin/env bash
# The README's metric list ("Monitoring") is what `ktlsrelay --metrics-list` prints: the same table
# the /metrics endpoint is rendered from, so the manual cannot name a metric the relay does not serve.
set -euo pipefail
readme="$(dirname "$0")/../../README.md"
[ -f "$readme" ] || exit 77 # not shipped into the VM guest
expected=$("$KTLSRELAY_BIN/ktlsrelay" --metrics-list)
actual=$(sed -n '/<!-- metrics:begin -->/,/<!-- metrics:end -->/p' "$readme" | sed '1d;$d')
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
	echo "README.md's metric list differs from ktlsrelay --metrics-list:" >&2
	diff <(echo "$expected") <(echo "$actual") >&2 || true
	echo "run tools/update-readme-options" >&2
	exit 1
fi
echo "README metric list matches"
