/* self_usage.c - tlstop's own CPU and memory, for the header line. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session.h"

/* Reads a small /proc file whole; false when it cannot. */
static bool read_proc(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0;
}

/* utime + stime of /proc/self/stat (fields 14 and 15, in clock ticks);
 * the fields are counted after the comm's closing parenthesis, since a
 * comm may hold spaces and parentheses itself. */
static bool cpu_ns(uint64_t *ns)
{
	unsigned long long utime, stime;
	long hz = sysconf(_SC_CLK_TCK);
	char buf[1024], *p;

	if (!read_proc("/proc/self/stat", buf, sizeof(buf)) || hz <= 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &utime,
			 &stime) != 2)
		return false;
	*ns = (utime + stime) * (1000000000ULL / (unsigned long long)hz);
	return true;
}

/* resident pages, the second field of /proc/self/statm */
static bool rss_bytes(uint64_t *bytes)
{
	unsigned long long pages;
	long page = sysconf(_SC_PAGESIZE);
	char buf[256];

	if (!read_proc("/proc/self/statm", buf, sizeof(buf)) || page <= 0 ||
	    sscanf(buf, "%*u %llu", &pages) != 1)
		return false;
	*bytes = pages * (uint64_t)page;
	return true;
}

void self_usage_sample(struct self_usage *u)
{
	struct timespec ts;
	uint64_t cpu, wall;

	rss_bytes(&u->rss_bytes);
	if (!cpu_ns(&cpu))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	wall = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (u->last_wall_ns && wall > u->last_wall_ns && cpu >= u->last_cpu_ns)
		u->cpu_pct = 100.0 * (double)(cpu - u->last_cpu_ns) /
			     (double)(wall - u->last_wall_ns);
	u->last_cpu_ns = cpu;
	u->last_wall_ns = wall;
}
