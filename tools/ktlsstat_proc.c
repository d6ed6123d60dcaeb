/* ktlsstat_proc.c - what /proc adds to the kernel's socket list: the owning processes (sock_diag
 * gives only the inode) and the kTLS counters of this network namespace. */
#include "ktlsstat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void read_comm(int pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(comm, len, f))
		snprintf(comm, len, "?");
	if (f)
		fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
}

static void scan_pid(struct ktlsstat_list *l, int pid)
{
	char path[320], link[64];
	struct dirent *de;
	unsigned long inode;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return; /* gone, or not ours to read */
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1)
			continue;
		/* A socket shared by several processes (fork) keeps the first owner found. */
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].inode != inode || l->v[i].pid)
				continue;
			l->v[i].pid = pid;
			read_comm(pid, l->v[i].comm, sizeof(l->v[i].comm));
		}
	}
	closedir(d);
}

void ktlsstat_find_owners(struct ktlsstat_list *l)
{
	struct dirent *de;
	DIR *d;

	if (!l->n)
		return;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			scan_pid(l, atoi(de->d_name));
	closedir(d);
}

int ktlsstat_read_tls_stat(struct ktlsstat_counter *out, size_t max)
{
	char line[128];
	int n = 0;
	FILE *f;

	f = fopen("/proc/net/tls_stat", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && (size_t)n < max)
		if (sscanf(line, "%47s %llu", out[n].name, &out[n].value) == 2)
			n++;
	fclose(f);
	return n;
}
