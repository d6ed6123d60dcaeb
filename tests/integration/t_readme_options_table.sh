#!/usr/bin/env bash
# The README's option table is what `ktlsrelay --options-markdown` prints (one table, derived).
# vm-newest: no (configuration only: the README table against --options-markdown)
set -euo pipefail
readme="$(dirname "$0")/../../README.md"
[ -f "$readme" ] || exit 77 # not shipped into the VM guest
expected=$("$KTLSRELAY_BIN/ktlsrelay" --options-markdown)
actual=$(sed -n '/<!-- options:begin -->/,/<!-- options:end -->/p' "$readme" | sed '1d;$d')
if [ "$expected" != "$actual" ]; then
	echo "README.md's option table differs from ktlsrelay --options-markdown:" >&2
	diff <(echo "$expected") <(echo "$actual") >&2 || true
	echo "run tools/update-readme-options" >&2
	exit 1
fi
echo "README option table matches"
