# tests/vm/tls_stat.sh - shell functions (bash) that ask the kernel whether kTLS really ran.
# Source it: . "$KTLSRELAY_REPO/tests/vm/tls_stat.sh"
#
# /proc/net/tls_stat holds per-network-namespace counters of sockets that got kernel TLS keys
# (TlsTxSw, TlsRxSw, TlsTxDevice, TlsRxDevice: cumulative; TlsCurr*: open now) and of errors
# (TlsDecryptError, ...). A test that claims kernel offload takes a snapshot before its traffic
# and asserts afterwards that the TX and RX counters moved: a relay that silently fell back to
# user space then fails. Each VM scenario runs in a fresh network namespace, so the counters
# start at 0 and count only that scenario's sockets.
#
#   tls_stat_snapshot FILE           save the counters now (fails when there is no kTLS)
#   tls_stat_value NAME [FILE]       print counter NAME, now or from a snapshot
#   tls_stat_delta FILE NAME         print how much NAME moved since the snapshot FILE
#   tls_stat_expect FILE NAME MIN    fail unless NAME moved by at least MIN
#   tls_stat_expect_same FILE NAME   fail if NAME moved (e.g. TlsDecryptError)
#   tls_stat_expect_offload FILE N   fail unless N sockets got kernel TX keys and N got RX keys
#                                    (software or device offload) since FILE
#   tls_stat_expect_none FILE        fail if any socket got kernel TLS keys since FILE
#
# Functions print a line starting "tls_stat:" on stderr and return 1 on failure; they never
# exit, so a test chooses how to fail.

TLS_STAT_PROC=${TLS_STAT_PROC:-/proc/net/tls_stat}

tls_stat_snapshot()
{
	if [ ! -r "$TLS_STAT_PROC" ]; then
		echo "tls_stat: no $TLS_STAT_PROC: this kernel has no kTLS (or tls.ko is not loaded)" >&2
		return 1
	fi
	cat "$TLS_STAT_PROC" >"$1"
}

tls_stat_value()
{
	local name=$1 file=${2:-$TLS_STAT_PROC} v
	v=$(awk -v n="$name" '$1 == n { print $2; found = 1 } END { exit !found }' "$file" 2>/dev/null) || {
		echo "tls_stat: no counter $name in $file" >&2
		return 1
	}
	echo "$v"
}

tls_stat_delta()
{
	local before now
	before=$(tls_stat_value "$2" "$1") || return 1
	now=$(tls_stat_value "$2") || return 1
	echo $((now - before))
}

tls_stat_expect()
{
	local d
	d=$(tls_stat_delta "$1" "$2") || return 1
	if [ "$d" -lt "$3" ]; then
		echo "tls_stat: $2 moved by $d, expected at least $3" >&2
		return 1
	fi
	echo "tls_stat: $2 +$d" >&2
}

tls_stat_expect_same()
{
	local d
	d=$(tls_stat_delta "$1" "$2") || return 1
	if [ "$d" -ne 0 ]; then
		echo "tls_stat: $2 moved by $d, expected no change" >&2
		return 1
	fi
}

tls_stat_expect_offload()
{
	local dir sw dev ok=0
	for dir in Tx Rx; do
		sw=$(tls_stat_delta "$1" "Tls${dir}Sw") || return 1
		dev=$(tls_stat_delta "$1" "Tls${dir}Device") || return 1
		if [ $((sw + dev)) -lt "$2" ]; then
			echo "tls_stat: ${dir^^}: $((sw + dev)) sockets got kernel keys (Tls${dir}Sw +$sw, Tls${dir}Device +$dev), expected at least $2: not offloaded" >&2
			ok=1
		else
			echo "tls_stat: ${dir^^}: Tls${dir}Sw +$sw Tls${dir}Device +$dev" >&2
		fi
	done
	return $ok
}

tls_stat_expect_none()
{
	local name d ok=0
	for name in TlsTxSw TlsRxSw TlsTxDevice TlsRxDevice; do
		d=$(tls_stat_delta "$1" "$name") || return 1
		if [ "$d" -ne 0 ]; then
			echo "tls_stat: $name moved by $d, expected no kernel TLS socket" >&2
			ok=1
		fi
	done
	return $ok
}
