#!/usr/bin/env bash
# The Debian package, as an operator gets it: tools/package builds it with debhelper; lintian
# finds no error in it; `dpkg -i` installs it; the installed relay runs (--version says the
# package's version, --check accepts the shipped example as it is); the postinst made the chroot
# directory (tmpfiles.d) and enabled ktlsrelay.service; `systemd-analyze verify` passes on both
# installed units; `dpkg --purge` then leaves none of its files, directories, logs or unit
# symlinks behind. Needs root (it installs a package on this machine) and a machine where
# ktlsrelay is not installed already (it would not touch that one).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ktlsrelay-pkg.XXXXXX")
INSTALLED=0
say() { echo "[deb] $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }
cleanup()
{
	local rc=$?
	[ "$INSTALLED" -eq 1 ] && dpkg --purge ktlsrelay >/dev/null 2>&1
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "installs a package: needs root"
command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null ||
	skip "no dpkg-buildpackage or lintian (tools/setup installs them)"
if dpkg-query -W -f='${Status}' ktlsrelay 2>/dev/null | grep -q "ok installed"; then
	skip "ktlsrelay is already installed on this machine: not replacing it"
fi

# ---- build ----
"$ROOT/tools/package" "$T/out" >"$T/package.out" 2>"$T/package.err" ||
	fail "tools/package: $(tail -n 30 "$T/package.err")"
deb=$(tail -n 1 "$T/package.out")
version=$(dpkg-deb -f "$deb" Version)
[ "$(basename "$deb")" = "ktlsrelay_${version}_$(dpkg --print-architecture).deb" ] ||
	fail "unexpected package file name $deb"
say "built $(basename "$deb")"
dpkg-deb -c "$deb" >"$T/contents"
for f in ./usr/bin/ktlsrelay ./usr/bin/ktlsstat ./usr/bin/ktlscat \
	./usr/share/man/man8/ktlsrelay.8.gz ./usr/share/man/man5/ktlsrelay.conf.5.gz \
	./usr/share/man/man8/ktlsstat.8.gz ./usr/share/man/man1/ktlscat.1.gz \
	./lib/systemd/system/ktlsrelay.service ./lib/systemd/system/ktlsrelay@.service \
	./usr/lib/tmpfiles.d/ktlsrelay.conf ./usr/lib/modules-load.d/ktlsrelay.conf \
	./etc/logrotate.d/ktlsrelay ./etc/ktlsrelay/ktlsrelay.conf.example; do
	grep -q " $f$" "$T/contents" || fail "$f is not in the package"
done
! grep -q '/etc/stunnel' "$T/contents" || fail "the package ships something under /etc/stunnel"

# ---- lintian: no error (warnings and notes are printed) ----
lintian --tag-display-limit 0 -I "$deb" >"$T/lintian.out" 2>&1
sed 's/^/[deb] lintian: /' "$T/lintian.out" >&2
! grep -q '^E: ' "$T/lintian.out" || fail "lintian reports errors"

# ---- install ----
# The example uses Debian's snakeoil certificate (Recommends: ssl-cert); images often delete it.
if [ ! -e /etc/ssl/private/ssl-cert-snakeoil.key ]; then
	command -v make-ssl-cert >/dev/null || skip "no ssl-cert (tools/setup installs it)"
	make-ssl-cert generate-default-snakeoil || fail "make-ssl-cert generate-default-snakeoil"
fi
INSTALLED=1
dpkg -i "$deb" >"$T/dpkg-i.out" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg-i.out")"
say "dpkg -i: installed"
out=$(/usr/bin/ktlsrelay --version) || fail "ktlsrelay --version failed"
echo "$out" | head -n 1 | grep -qx "ktlsrelay $version" ||
	fail "ktlsrelay --version says '$(echo "$out" | head -n 1)', the package $version"
say "ktlsrelay --version: $(echo "$out" | tr '\n' ' ')"
out=$(/usr/bin/ktlsrelay --check /etc/ktlsrelay/ktlsrelay.conf.example 2>&1) ||
	fail "the shipped example fails --check: $out"
say "ktlsrelay --check: $out"
/usr/bin/ktlsstat --help | grep -q "^usage: ktlsstat" || fail "ktlsstat does not run"
{ /usr/bin/ktlscat 2>&1 || true; } | grep -q "^usage: ktlscat" || fail "ktlscat does not run"
[ -d /run/ktlsrelay ] || fail "the postinst did not make /run/ktlsrelay (tmpfiles.d)"
[ -L /etc/systemd/system/multi-user.target.wants/ktlsrelay.service ] ||
	fail "ktlsrelay.service is not enabled"
MANPAGER=cat man ktlsrelay.conf 2>/dev/null | grep -q 'maxconn' || fail "man ktlsrelay.conf does not show the options"

# ---- systemd-analyze verify on the installed units ----
# The template needs an instance; its configuration file need not exist for verify.
verify=$(cd / && systemd-analyze verify /lib/systemd/system/ktlsrelay.service \
	ktlsrelay@example.service 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ -z "$verify" ] || fail "systemd-analyze verify (exit $rc): $verify"
say "systemd-analyze verify ktlsrelay.service ktlsrelay@example.service: clean"

# ---- purge: nothing left ----
echo "a relay's log line" >/var/log/ktlsrelay/example.log
dpkg --purge ktlsrelay >"$T/purge.out" 2>&1 || fail "dpkg --purge: $(cat "$T/purge.out")"
INSTALLED=0
dpkg-query -W -f='${Status}' ktlsrelay 2>/dev/null | grep -q "installed" &&
	fail "ktlsrelay still known to dpkg after purge"
left=""
while read -r path; do
	path=${path#.}
	case "$path" in
	/ | /etc | /etc/logrotate.d | /lib | /lib/systemd | /lib/systemd/system | /usr | /usr/bin | \
		/usr/lib | /usr/lib/modules-load.d | /usr/lib/tmpfiles.d | /usr/share | /usr/share/doc | \
		/usr/share/man | /usr/share/man/man? | /var | /var/log) continue ;;
	esac
	[ -e "$path" ] || [ -L "$path" ] && left="$left $path"
done < <(awk '{ print $NF }' "$T/contents" | sed 's:/$::')
for path in /run/ktlsrelay /etc/ktlsrelay /var/log/ktlsrelay; do
	[ -e "$path" ] && left="$left $path"
done
left="$left $(find /etc/systemd /var/lib/systemd -name '*ktlsrelay*' 2>/dev/null | tr '\n' ' ')"
[ -z "${left// /}" ] || fail "left after purge:$left"
say "dpkg --purge: nothing left"
say "PASS"
