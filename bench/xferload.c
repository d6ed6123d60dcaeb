/* xferload - plaintext load for xferbench: an echo backend and a load generator that checks every
 * echoed byte and reports connections per second and round-trip percentiles.
 *
 *   xferload echo PORT                 echo server on 127.0.0.1:PORT until SIGTERM
 *   xferload conn PORT N INFLIGHT      N connections, INFLIGHT at once: connect, 1 request, close
 *   xferload rr PORT N                 one connection, N requests one after another
 *   xferload hold PORT N INFLIGHT      N connections, 1 request each, kept open: prints
 *                                      "ready N" and waits for SIGTERM, then closes them all
 *   xferload many PORT N INFLIGHT      N connections open at once (INFLIGHT still opening at a
 *                                      time), a request on each as it opens, then one more on
 *                                      all of them at once; failures are counted, not fatal.
 *                                      With --hold: prints the result and "ready OK", keeps
 *                                      them open until SIGTERM, then closes them all
 *
 * Options (after the mode): --size BYTES (request size, default 1024), --timeout SECS (default
 * 120), --hold (many). The result is one line on stdout, `key=value` pairs, for a script to read:
 *   mode=conn conns=... requests=... seconds=... conn_per_s=... req_per_s=...
 *   conn_p50_us=... conn_p99_us=... req_p50_us=... req_p99_us=...
 *   mode=many conns=N opened=... ok=... failed=... open_seconds=... check_seconds=...
 * Exit: 0 every request came back intact; 1 otherwise, with the reason(s) on stderr. */
#include "xferload.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xferload echo PORT\n"
		"       xferload conn PORT N INFLIGHT [--size BYTES] [--timeout SECS]\n"
		"       xferload rr PORT N [--size BYTES] [--timeout SECS]\n"
		"       xferload hold PORT N INFLIGHT [--size BYTES] [--timeout SECS]\n"
		"       xferload many PORT N INFLIGHT [--size BYTES] [--timeout SECS] [--hold]\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *v > max || s[0] == '-')
		return -EINVAL;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile, in microseconds. */
static double pct_us(uint64_t *v, uint64_t n, double p)
{
	uint64_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	rank = (uint64_t)(p * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1000.0;
}

static void print_ready(unsigned conns)
{
	printf("ready %u\n", conns);
	fflush(stdout);
}

static unsigned many_total;

static void print_many(const struct xl_many_result *r)
{
	printf("mode=many conns=%u opened=%u ok=%u failed=%u open_seconds=%.6f "
	       "check_seconds=%.6f\n",
	       many_total, r->opened, r->ok, r->failed, r->open_seconds, r->check_seconds);
	fflush(stdout);
}

/* With --hold the result comes first, so a script can read it while the connections are held. */
static void print_many_ready(const struct xl_many_result *r)
{
	print_many(r);
	printf("ready %u\n", r->ok);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct xl_plan plan = {.size = 1024, .timeout_s = 120, .reqs = 1};
	struct xl_result res = {0};
	struct xl_many_result many = {0};
	bool hold_flag = false;
	unsigned long v, nums[3] = {0};
	unsigned need, i, nn = 0;
	const char *mode;
	char err[256] = "";
	int ret;

	if (argc < 3 || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	mode = argv[1];
	need = !strcmp(mode, "echo") ? 1 : !strcmp(mode, "rr") ? 2 : 3;
	if (strcmp(mode, "echo") && strcmp(mode, "rr") && strcmp(mode, "conn") &&
	    strcmp(mode, "hold") && strcmp(mode, "many"))
		goto bad;
	for (i = 2; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < (unsigned)argc) {
			if (parse_uint(argv[++i], 1 << 20, &v) || v == 0)
				goto bad;
			plan.size = v;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < (unsigned)argc) {
			if (parse_uint(argv[++i], 86400, &v) || v == 0)
				goto bad;
			plan.timeout_s = (unsigned)v;
		} else if (!strcmp(argv[i], "--hold") && !strcmp(mode, "many")) {
			hold_flag = true;
		} else if (nn < need && !parse_uint(argv[i], nn == 0 ? 65535 : 10000000, &v)) {
			nums[nn++] = v;
		} else {
			goto bad;
		}
	}
	if (nn != need || nums[0] == 0)
		goto bad;
	plan.port = (uint16_t)nums[0];

	if (!strcmp(mode, "echo")) {
		ret = xl_run_echo(plan.port, err, sizeof(err));
		goto out;
	}
	if (!strcmp(mode, "rr")) {
		plan.total = 1;
		plan.inflight = 1;
		plan.reqs = (unsigned)nums[1];
	} else {
		plan.total = (unsigned)nums[1];
		plan.inflight = nums[2] < nums[1] ? (unsigned)nums[2] : (unsigned)nums[1];
		plan.hold = !strcmp(mode, "hold") || hold_flag;
	}
	if (plan.total == 0 || plan.inflight == 0 || plan.reqs == 0)
		goto bad;
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(mode, "many")) {
		many_total = plan.total;
		ret = xl_run_many(&plan, &many, print_many_ready, err, sizeof(err));
		if (ret == 0 && !plan.hold)
			print_many(&many);
		if (ret == 0 && many.failed > 0) {
			fprintf(stderr, "xferload many: %u of %u connections failed\n", many.failed,
				plan.total);
			return 1;
		}
		goto out;
	}

	ret = xl_run_load(&plan, &res, print_ready, err, sizeof(err));
	if (ret == 0) {
		printf("mode=%s conns=%u requests=%llu seconds=%.6f conn_per_s=%.1f req_per_s=%.1f "
		       "conn_p50_us=%.1f conn_p99_us=%.1f req_p50_us=%.1f req_p99_us=%.1f\n",
		       mode, res.conns, (unsigned long long)res.requests, res.seconds,
		       res.seconds > 0 ? res.conns / res.seconds : 0,
		       res.seconds > 0 ? (double)res.requests / res.seconds : 0,
		       pct_us(res.conn_ns, res.conns, 0.50), pct_us(res.conn_ns, res.conns, 0.99),
		       pct_us(res.req_ns, res.req_count, 0.50),
		       pct_us(res.req_ns, res.req_count, 0.99));
	}
	free(res.conn_ns);
	free(res.req_ns);
out:
	if (ret < 0) {
		fprintf(stderr, "xferload %s: %s\n", mode, err);
		return 1;
	}
	return 0;
bad:
	usage(stderr);
	return 1;
}
