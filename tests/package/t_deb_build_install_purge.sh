#!/usr/bin/env bash
# The Debian package, as an operator gets it: tools/package builds it with debhelper; lintian
# finds no error in it; `dpkg -i` installs it; the installed relay runs (--version says the
# package's version, --check accepts the shipped example as it is); the postinst made the chroot
# directory (tmpfiles.d) and enabled ktlsrelay.service; `systemd-analyze verify` passes on both
# installed units; logrotate rotates an `output =` file with the shipped snippet; `dpkg --purge`
# then leaves none of its files, directories, logs or unit
# symlinks behind. Where systemd-nspawn is installed (systemd-container), the installed unit also
# runs under a real systemd: this machine's root, with the package installed, booted in a
# container (an overlay on /, its own network namespace): ktlsrelay@t becomes active through
# READY=1 with its status, runs as nobody with no capability left, serves a TLS 1.3 handshake,
# reloads (and refuses a bad file, saying so in its status), and stops cleanly.
# Needs root (it installs a package on this machine) and a machine where ktlsrelay is not
# installed already (it would not touch that one).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ktlsrelay-pkg.XXXXXX")
INSTALLED=0
say() { echo "[deb] $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }
NSPAWN=""
MOUNTS=()
cleanup()
{
	local rc=$? m
	[ -n "$NSPAWN" ] && kill "$NSPAWN" 2>/dev/null && sleep 2
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
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

# ---- the installed unit under a real systemd ----
in_container() { nsenter -t "$LEADER" -a env SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"; }
unit_show() { in_container systemctl show -p "$1" --value ktlsrelay@t; }
run_under_systemd()
{
	local ovl=$T/ovl i pid out
	mkdir -p "$ovl/up" "$ovl/root"
	mount -t tmpfs tmpfs "$ovl/up" || fail "tmpfs for the container"
	MOUNTS=("$ovl/up")
	mkdir "$ovl/up/u" "$ovl/up/w"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$ovl/up/u,workdir=$ovl/up/w" "$ovl/root" ||
		fail "overlay on / for the container"
	MOUNTS=("$ovl/root" "$ovl/up")
	timeout 300 systemd-nspawn -q -D "$ovl/root" --boot --register=no --link-journal=no \
		--keep-unit --private-network -M ktlsrelay-test >"$T/nspawn.log" 2>&1 &
	NSPAWN=$!
	LEADER=""
	for i in $(seq 1 100); do
		pid=$(pgrep -P "$NSPAWN" -x systemd-nspawn)
		[ -n "$pid" ] && LEADER=$(pgrep -P "$pid" -x systemd) && [ -n "$LEADER" ] && break
		sleep 0.2
	done
	[ -n "$LEADER" ] || fail "the container did not start: $(tail -n 20 "$T/nspawn.log")"
	out=$(in_container timeout 120 systemctl is-system-running --wait 2>&1)
	say "container booted ($out)"
	in_container sh -c 'sed "s/^accept = .*/accept = 127.0.0.1:12399/; s/^connect = .*/connect = 127.0.0.1:12398/" \
		/etc/ktlsrelay/ktlsrelay.conf.example >/etc/ktlsrelay/t.conf'
	in_container systemctl start ktlsrelay@t ||
		fail "systemctl start ktlsrelay@t: $(in_container journalctl -u ktlsrelay@t -o cat | tail -n 20)"
	[ "$(unit_show ActiveState)" = active ] || fail "ktlsrelay@t is not active"
	[ "$(unit_show StatusText)" = "serving 1 service" ] ||
		fail "status is '$(unit_show StatusText)', not the relay's READY=1 status"
	pid=$(unit_show MainPID)
	out=$(in_container grep -E '^(Uid|CapEff|NoNewPrivs):' "/proc/$pid/status" | tr -s '\t\n' '  ')
	echo "$out" | grep -q "Uid: 65534 65534 65534 65534 CapEff: 0000000000000000 NoNewPrivs: 1" ||
		fail "the relay under systemd: $out"
	out=$(in_container sh -c 'echo | timeout 10 openssl s_client -connect 127.0.0.1:12399 -brief 2>&1')
	echo "$out" | grep -q "Protocol version: TLSv1.3" || fail "no TLS 1.3 handshake under systemd: $out"
	in_container systemctl reload ktlsrelay@t ||
		fail "systemctl reload: $(in_container journalctl -u ktlsrelay@t -o cat | tail -n 10)"
	[ "$(unit_show StatusText)" = "serving 1 service (reloaded)" ] ||
		fail "after reload the status is '$(unit_show StatusText)'"
	in_container sh -c 'echo "no_such_option = 1" >>/etc/ktlsrelay/t.conf'
	in_container systemctl reload ktlsrelay@t || fail "systemctl reload of a bad file failed"
	unit_show StatusText | grep -q "^reload refused: .*no_such_option" ||
		fail "after a bad reload the status is '$(unit_show StatusText)'"
	in_container systemctl stop ktlsrelay@t || fail "systemctl stop"
	[ "$(unit_show Result)" = success ] && [ "$(unit_show ExecMainStatus)" = 0 ] ||
		fail "stop: Result=$(unit_show Result) ExecMainStatus=$(unit_show ExecMainStatus)"
	say "under systemd: ktlsrelay@t active with READY=1, uid nobody, no capability, TLS 1.3," \
		"reload and refused reload in its status, clean stop"
	in_container systemctl poweroff
	for i in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
	kill "$NSPAWN" 2>/dev/null
	wait "$NSPAWN" 2>/dev/null
	NSPAWN=""
	umount "$ovl/root" && umount "$ovl/up" && MOUNTS=()
}
if command -v systemd-nspawn >/dev/null; then
	run_under_systemd
else
	say "no systemd-nspawn (package systemd-container): the unit was not run under systemd"
fi

# ---- logrotate: the snippet rotates an output = file (copytruncate) ----
echo "a relay's log line" >/var/log/ktlsrelay/example.log
if command -v logrotate >/dev/null; then
	logrotate -f -s "$T/logrotate.state" /etc/logrotate.d/ktlsrelay 2>"$T/logrotate.err" ||
		fail "logrotate /etc/logrotate.d/ktlsrelay: $(cat "$T/logrotate.err")"
	[ -s /var/log/ktlsrelay/example.log.1 ] && [ ! -s /var/log/ktlsrelay/example.log ] ||
		fail "logrotate did not rotate /var/log/ktlsrelay/example.log: $(ls -l /var/log/ktlsrelay)"
	say "logrotate: /var/log/ktlsrelay/example.log rotated to example.log.1"
else
	say "no logrotate: the snippet was not run"
fi

# ---- purge: nothing left ----
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
