#define _GNU_SOURCE
#include "runtime/warm.h"

#include "runtime/supervisor.h"
#include "util/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TREE_MAX 512

static int put(const char *root, const char *name, const char *file, const char *text)
{
	const struct service_file f = { file, text, strlen(text), 0644 };
	return supervisor_service_put(root, name, &f);
}

int warm_keep(const char *root, const struct strvec *names, long long until)
{
	char text[64];
	int err = 0;
	snprintf(text, sizeof(text), "%lld %lld\n", (long long)time(NULL), until);
	for (size_t i = 0; i < names->n && !err; i++)
		err = put(root, names->v[i], "warm", text);
	return err;
}

int warm_is(const char *root, const char *name, long long *since, long long *until)
{
	char *text = NULL;
	long long s = 0, u = 0;
	/* most services never were warm: no file, no message to keep */
	int warm = supervisor_service_read(root, name, "warm", 64, &text) == 0 &&
		   sscanf(text, "%lld %lld", &s, &u) == 2 && u > 0;
	free(text);
	if (since)
		*since = s;
	if (until)
		*until = u;
	return warm;
}

int warm_adopt(const char *root, const struct strvec *names, int version)
{
	char text[32];
	int err = 0;
	snprintf(text, sizeof(text), "%d\n", version);
	/* what it serves first: it is never warm and of no release in between */
	for (size_t i = 0; i < names->n && !err; i++)
		if (!(err = put(root, names->v[i], "serves", text)))
			err = put(root, names->v[i], "warm", "0 0\n");
	return err;
}

int warm_release_of(const char *root, const char *name, int named)
{
	char *text = NULL;
	int v = 0;
	if (supervisor_service_read(root, name, "serves", 32, &text) < 0 || sscanf(text, "%d", &v) != 1 ||
	    v < 1)
		v = named;
	free(text);
	return v;
}

/* Resident pages of pid (its statm's second field), 0 when it is gone. */
static long long rss_pages(pid_t pid)
{
	char path[64];
	long long size = 0, resident = 0;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lld %lld", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident;
}

long long warm_tree_rss(pid_t pid)
{
	if (pid <= 0)
		return 0; /* proc_descendants() of 0 would take every process */
	pid_t tree[TREE_MAX];
	size_t n = proc_descendants(pid, tree, TREE_MAX);
	long long pages = 0;
	for (size_t i = 0; i < n; i++)
		pages += rss_pages(tree[i]);
	return pages * sysconf(_SC_PAGESIZE);
}
