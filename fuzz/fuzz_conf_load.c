/* fuzz_conf_load.c - conf_load() on any file: a configuration or an error, never a crash, a
 * leak or a hang.
 *
 * The input reaches conf_load() as a file without touching the disk: one memfd, rewritten for
 * every input and opened by its /proc/self/fd path (the loader only takes a path).
 *
 * Two link-time wraps (fuzz/CMakeLists.txt) keep the loader inside the machine and check it:
 * - getaddrinfo: accept and connect names are resolved at load time (relay/conf_addr.c, by
 *   design: after chroot there may be no resolver). Fuzzed names must not become DNS queries (the
 *   resolver is not on loopback, and each unknown name would cost a timeout), so only numeric
 *   hosts are resolved, and "localhost" as 127.0.0.1; any other name fails as unknown would.
 * - fopen: conf_load() must open the file it was given and nothing else (no include, no
 *   certificate read at load time, no FIFO to block on): any other path aborts the run.
 *
 * What must hold for every input:
 * - failure: -1, *out NULL, and one non-empty error line naming the file;
 * - success: at least one service, each with accept and connect, server mode with a cert, a key
 *   whenever there is a cert, version bounds in order; and conf_reload() of the same file with
 *   this configuration in force loads it again, with the same services.
 */
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

static int memfd = -1;
static char path[64];
static bool loading;
static bool verbose; /* FUZZ_VERBOSE=1: print each input's outcome (to check a seed corpus) */

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
FILE *__real_fopen(const char *name, const char *mode);
FILE *__wrap_fopen(const char *name, const char *mode);

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct addrinfo h = {0};

	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	if (node && !strcasecmp(node, "localhost"))
		node = "127.0.0.1";
	return __real_getaddrinfo(node, service, &h, res);
}

/* libFuzzer itself writes artifacts with fopen: only calls made during conf_load() count. */
FILE *__wrap_fopen(const char *name, const char *mode)
{
	if (loading && strcmp(name, path) != 0) {
		fprintf(stderr, "conf_load opened '%s', not its own file %s\n", name, path);
		abort();
	}
	return __real_fopen(name, mode);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	memfd = memfd_create("fuzz_conf", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	return 0;
}

static void check_conf(const struct conf *c)
{
	if (!c || c->n_services == 0 || !c->services || strcmp(c->path, path) != 0)
		abort();
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *s = &c->services[i];

		if (!s->name || !*s->name || !s->accept.text[0] || s->accept.len == 0 ||
		    s->n_connect == 0)
			abort();
		if (!s->client && !s->cert)
			abort();
		if (s->cert && !s->key)
			abort();
		if (s->version_min && s->version_max && s->version_min > s->version_max)
			abort();
		for (size_t j = 0; j < s->n_connect; j++) {
			const struct conf_connect *cn = &s->connect[j];

			if (!cn->host || !cn->port || (!s->delay && cn->n_addrs == 0))
				abort();
			for (size_t k = 0; k < cn->n_addrs; k++)
				if (cn->addrs[k].len == 0 ||
				    cn->addrs[k].len > sizeof(cn->addrs[k].ss))
					abort();
		}
	}
}

static void check_error(int ret, const struct conf *c, const char *err)
{
	if (ret != -1 || c)
		abort();
	if (!err[0] || !strstr(err, path) || strchr(err, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL, *again = NULL;
	char err[512], err2[512];
	int ret;

	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	memset(err, 0, sizeof(err));
	loading = true;
	ret = conf_load(path, size & 1, &c, err, sizeof(err));
	loading = false;
	if (verbose)
		fprintf(stderr, "conf_load: %s\n", ret ? err : "ok");
	if (ret == 0) {
		check_conf(c);
		loading = true;
		ret = conf_reload(path, false, c, &again, err2, sizeof(err2));
		loading = false;
		if (ret != 0) {
			fprintf(stderr, "loaded once, refused on reload: %s\n", err2);
			abort();
		}
		check_conf(again);
		if (again->n_services != c->n_services || again->uid != c->uid ||
		    again->gid != c->gid)
			abort();
		for (size_t i = 0; i < c->n_services; i++)
			if (strcmp(again->services[i].name, c->services[i].name) != 0)
				abort();
		conf_free(again);
		conf_free(c);
	} else {
		check_error(ret, c, err);
	}
	return 0;
}
