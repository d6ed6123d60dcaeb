# metrics_lib.sh - what the t_metrics_*.sh tests share: scraping the relay's metrics endpoint and
# reading one sample. Sourced after lib.sh.
#
# On the host the scrape is curl's (a real HTTP client, as Prometheus would be); the kTLS VM has
# no curl, so there the request is written by hand through socat, which the VM has.

# http_get PORT PATH OUT [METHOD]: the answer's body into OUT; sets HTTP_STATUS ("000": none).
http_get()
{
	local port=$1 path=$2 out=$3 method=${4:-GET}
	if command -v curl >/dev/null; then
		HTTP_STATUS=$(curl -s -m 10 -X "$method" -o "$out" -w '%{http_code}' \
			"http://127.0.0.1:$port$path") || HTTP_STATUS=000
		return 0
	fi
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$method" "$path" |
		socat -t 10 -T 10 - "TCP4:127.0.0.1:$port" >"$out.raw" 2>/dev/null
	HTTP_STATUS=$(head -n 1 "$out.raw" | awk '{ print $2 }')
	[ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
	sed '1,/^\r$/d' "$out.raw" >"$out"
}

# scrape PORT OUT: GET /metrics into OUT, which must answer 200 and pass `promtool check metrics`
# where promtool is installed (not in the VM: there the format is left to the host's runs).
scrape()
{
	http_get "$1" /metrics "$2"
	[ "$HTTP_STATUS" = 200 ] || fail "GET /metrics on port $1 answered $HTTP_STATUS"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$2" >"$2.promtool" 2>&1 ||
			fail "promtool check metrics: $(cat "$2.promtool")"
	elif [ -z "${KTLSRELAY_IN_VM:-}" ]; then
		fail "promtool is missing (Debian package prometheus; tools/setup installs it)"
	fi
}

# sample FILE 'NAME{LABELS}': the value of one sample of a scrape ("" when absent).
sample()
{
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# expect_sample FILE 'NAME{LABELS}' VALUE WHAT
expect_sample()
{
	local got
	got=$(sample "$1" "$2")
	[ "$got" = "$3" ] || fail "$4: $2 is '$got', expected $3"
}

# sample_is PORT 'NAME{LABELS}' VALUE: a fresh scrape has that value (for wait_until).
sample_is()
{
	http_get "$1" /metrics "$T/poll.prom"
	[ "$(sample "$T/poll.prom" "$2")" = "$3" ]
}
