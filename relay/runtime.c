/* runtime.c - generations of the running configuration. */
#include "runtime.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool same_addr(const struct conf_addr *a, const struct conf_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static struct listener *find_listener(const struct runtime *rt, const struct conf_addr *addr)
{
	for (size_t i = 0; rt && i < rt->n_services; i++) {
		struct listener *l = rt->services[i].listener;
		if (l && same_addr(&l->addr, addr))
			return l;
	}
	return NULL;
}

static void listener_put(struct listener *l)
{
	if (!l || --l->refs > 0)
		return;
	for (int i = 0; i < l->n_fds; i++)
		if (l->fds[i] >= 0)
			close(l->fds[i]);
	free(l);
}

static int listener_open(const struct conf_service *svc, int n_workers, struct listener **out,
			 char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l) + n_workers * sizeof(int));
	int ret = 0;

	if (!l)
		return -ENOMEM;
	l->refs = 1;
	l->addr = svc->accept;
	l->n_fds = n_workers;
	for (int i = 0; i < n_workers; i++)
		l->fds[i] = -1;
	ret = net_check_free(&svc->accept, err, errlen);
	if (ret < 0) {
		listener_put(l);
		return ret;
	}
	for (int i = 0; i < n_workers; i++) {
		l->fds[i] = net_listen(&svc->accept, svc->sockopts, svc->n_sockopts, err, errlen);
		if (l->fds[i] < 0) {
			ret = l->fds[i];
			listener_put(l);
			return ret;
		}
	}
	*out = l;
	return 0;
}

static struct service_load *service_load_get(const struct runtime *prev, const char *name)
{
	struct service_load *load;

	for (size_t i = 0; prev && i < prev->n_services; i++) {
		load = prev->services[i].load;
		if (load && strcmp(load->name, name) == 0) {
			atomic_fetch_add(&load->refs, 1);
			return load;
		}
	}
	load = calloc(1, sizeof(*load) + strlen(name) + 1);
	if (!load)
		return NULL;
	atomic_init(&load->refs, 1);
	strcpy(load->name, name);
	return load;
}

static void service_load_put(struct service_load *load)
{
	if (load && atomic_fetch_sub(&load->refs, 1) == 1)
		free(load);
}

bool service_enter(struct service_rt *svc)
{
	long max = svc->conf->maxconn;

	if (atomic_fetch_add(&svc->load->live, 1) < max || max == 0)
		return true;
	atomic_fetch_sub(&svc->load->live, 1);
	return false;
}

void service_leave(struct service_rt *svc)
{
	atomic_fetch_sub(&svc->load->live, 1);
}

int runtime_create(struct conf *conf, const struct runtime *prev, int n_workers, int keylog_fd,
		   struct runtime **out, char *err, size_t errlen)
{
	struct runtime *rt = calloc(1, sizeof(*rt));
	char why[1024];
	int ret = 0;

	if (!rt) {
		conf_free(conf);
		return -ENOMEM;
	}
	atomic_init(&rt->refs, 1);
	rt->conf = conf;
	rt->services = calloc(conf->n_services, sizeof(*rt->services));
	if (!rt->services) {
		ret = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < conf->n_services; i++) {
		const struct conf_service *svc = &conf->services[i];
		struct service_rt *srt = &rt->services[i];

		srt->conf = svc;
		srt->load = service_load_get(prev, svc->name);
		if (!srt->load) {
			ret = -ENOMEM;
			snprintf(err, errlen, "%s:%d: [%s] out of memory", svc->file, svc->line,
				 svc->name);
			goto fail;
		}
		ret = tls_service_init(&srt->tls, svc, keylog_fd, why, sizeof(why));
		if (ret < 0) {
			service_load_put(srt->load);
			snprintf(err, errlen, "%s:%d: [%s] %s", svc->file, svc->line, svc->name,
				 why);
			goto fail;
		}
		rt->n_services = i + 1;
		if (n_workers <= 0)
			continue;
		srt->listener = find_listener(prev, &svc->accept);
		if (srt->listener) {
			srt->listener->refs++;
			continue;
		}
		ret = listener_open(svc, n_workers, &srt->listener, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "%s:%d: [%s] %s", svc->file, svc->line, svc->name,
				 why);
			goto fail;
		}
	}
	*out = rt;
	return 0;
fail:
	runtime_release_listeners(rt);
	runtime_put(rt);
	return ret;
}

void runtime_get(struct runtime *rt)
{
	atomic_fetch_add(&rt->refs, 1);
}

void runtime_release_listeners(struct runtime *rt)
{
	if (rt->listeners_released)
		return;
	rt->listeners_released = true;
	for (size_t i = 0; i < rt->n_services; i++) {
		listener_put(rt->services[i].listener);
		rt->services[i].listener = NULL;
	}
}

void runtime_put(struct runtime *rt)
{
	if (!rt || atomic_fetch_sub(&rt->refs, 1) != 1)
		return;
	/* The main thread releases listeners before dropping its reference; only a generation
	 * that failed to build gets here with them still held. */
	for (size_t i = 0; i < rt->n_services; i++) {
		tls_service_free(&rt->services[i].tls);
		service_load_put(rt->services[i].load);
	}
	free(rt->services);
	conf_free(rt->conf);
	free(rt);
}
