/* ktlscat_progress.c - a one-line progress bar on stderr (bytes, rate, ETA), drawn only when
 * stderr is a terminal; redrawn at most five times a second so the per-record call stays cheap. */
#include "ktlscat.h"

#include <stdio.h>
#include <time.h>

#define BAR_WIDTH 24

double ktlscat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void ktlscat_progress_start(struct ktlscat_progress *p, bool on, uint64_t total)
{
	p->on = on;
	p->total = total;
	p->start = ktlscat_now();
	p->last = 0;
}

static void draw(const struct ktlscat_progress *p, uint64_t done, double now)
{
	double secs = now - p->start, rate = secs > 0 ? done / secs : 0;
	char bar[BAR_WIDTH + 1];
	int fill, i;
	long eta;

	if (!p->total) {
		fprintf(stderr, "\r%10.1f MiB  %9.1f MB/s\033[K", done / 1048576.0, rate / 1e6);
		return;
	}
	fill = done >= p->total ? BAR_WIDTH : (int)(BAR_WIDTH * (double)done / p->total);
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
	bar[BAR_WIDTH] = '\0';
	eta = rate > 0 ? (long)((p->total - done) / rate + 0.5) : 0;
	fprintf(stderr, "\r[%s] %3d%%  %.1f / %.1f MiB  %.1f MB/s  ETA %ld:%02ld\033[K", bar,
		(int)(100.0 * done / p->total), done / 1048576.0, p->total / 1048576.0, rate / 1e6,
		eta / 60, eta % 60);
}

void ktlscat_progress_update(struct ktlscat_progress *p, uint64_t done)
{
	double now;

	if (!p->on)
		return;
	now = ktlscat_now();
	if (now - p->last < 0.2)
		return;
	p->last = now;
	draw(p, done, now);
}

void ktlscat_progress_end(struct ktlscat_progress *p)
{
	if (p->on)
		fprintf(stderr, "\r\033[K");
}
