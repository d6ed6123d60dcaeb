#!/usr/bin/env bash
# The manual pages: `mandoc -T lint` finds no error and no warning in any (style notes, such as
# a cross-reference to a page not installed here, are allowed), each renders (`mandoc -T utf8`,
# what `man ./ktlsrelay.8` shows), and ktlsrelay.conf(5) lists every option of
# `ktlsrelay --options-markdown`, the table it is generated from.
#   t_man_pages.sh DIR   (the build's man/ folder: the generated page and copies of the others)
set -u -o pipefail
dir=${1:?usage: t_man_pages.sh BUILD/man}
command -v mandoc >/dev/null || { echo "SKIP: no mandoc (tools/setup installs it)" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
for page in ktlsrelay.8 ktlsrelay.conf.5 ktlsstat.8 ktlscat.1 xferbench.1; do
	f=$dir/$page
	[ -s "$f" ] || fail "$f missing (build the man target)"
	out=$(mandoc -T lint -W warning "$f" 2>&1)
	rc=$?
	echo "mandoc -T lint $page: ${out:-clean} (exit $rc)"
	[ "$rc" -eq 0 ] && [ -z "$out" ] || fail "$page: mandoc -T lint -W warning: $out"
	text=$(mandoc -T utf8 "$f" | sed 's/.\x08//g') || fail "$page does not render"
	name=${page%.*}
	echo "$text" | head -n 1 | grep -qi "^${name}(${page##*.})" ||
		fail "$page: rendered header is not $name(${page##*.}): $(echo "$text" | head -n 1)"
	[ "$(echo "$text" | wc -l)" -gt 20 ] || fail "$page renders to almost nothing"
done
if command -v man >/dev/null; then
	shown=$(cd "$dir" && MANPAGER=cat MANWIDTH=80 man ./ktlsrelay.8 2>&1 | sed 's/.\x08//g')
	echo "$shown" | grep -q '^SYNOPSIS' || fail "man ./ktlsrelay.8 does not render: $shown"
	echo "man ./ktlsrelay.8 renders"
fi
conf=$(mandoc -T utf8 "$dir/ktlsrelay.conf.5" | sed 's/.\x08//g')
n=0
while read -r opt; do
	echo "$conf" | grep -Eq "^ {5}$opt = " || fail "ktlsrelay.conf(5) lacks the option $opt"
	n=$((n + 1))
done < <("$KTLSRELAY_BIN/ktlsrelay" --options-markdown | awk -F'|' 'NR > 2 && /^\|/ { gsub(/ /, "", $2); print $2 }')
[ "$n" -gt 30 ] || fail "only $n options in --options-markdown?"
echo "ktlsrelay.conf(5) lists all $n options of ktlsrelay --options-markdown"
echo "PASS"
