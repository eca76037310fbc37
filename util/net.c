#define _GNU_SOURCE
#include "util/net.h"

#include "util/proc.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int net_accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* 1 when address:port binds (address "": every address), with SO_REUSEADDR when reuse is set. */
static int binds(const char *address, int port, int reuse)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (*address && inet_pton(AF_INET, address, &a.sin_addr) != 1)
		return 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	int ok = fd >= 0 &&
		 (!reuse || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0) &&
		 bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

int net_port_free(int port)
{
	return binds("", port, 0);
}

int net_port_listenable(const char *address, int port)
{
	return binds(address, port, 1);
}

#define LISTENERS_MAX 64
#define ALL_LISTENERS_MAX 65536
#define TREE_MAX 512

/*
 * The inodes of the sockets listening on port (any port when port < 0) in
 * pid's network namespace, from its /proc/PID/net/tcp and tcp6; -1 if
 * unreadable.
 */
static int listeners(pid_t pid, int port, unsigned long *inodes, int max)
{
	static const char *const files[] = { "tcp", "tcp6" };
	int n = 0, read_any = 0;
	char line[512], path[64];
	for (int f = 0; f < 2; f++) {
		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, files[f]);
		FILE *in = fopen(path, "re");
		if (!in)
			continue;
		read_any = 1;
		while (fgets(line, sizeof(line), in)) {
			char local[64], remote[64], st[8];
			unsigned long inode;
			/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
			if (sscanf(line, "%*s %63s %63s %7s %*s %*s %*s %*s %*s %lu", local, remote, st,
				   &inode) != 4 || strcmp(st, "0A"))
				continue;
			char *colon = strrchr(local, ':');
			if (colon && (port < 0 || strtol(colon + 1, NULL, 16) == port) && n < max)
				inodes[n++] = inode;
		}
		fclose(in);
	}
	return read_any ? n : -1;
}

#define NETNS_MAX 8

/* The listeners on port of one network namespace, read once per tree scan. */
struct netns_listeners {
	unsigned long long ns;  /* the namespace's inode */
	int n;                  /* how many; -1: unreadable */
	unsigned long inodes[LISTENERS_MAX];
};

/* pid's namespace's listeners, from seen (nseen of them) or read now; NULL if unreadable. */
static const struct netns_listeners *listeners_of(pid_t pid, int port,
						  struct netns_listeners *seen, int *nseen)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return NULL;
	for (int i = 0; i < *nseen; i++)
		if (seen[i].ns == (unsigned long long)st.st_ino)
			return seen[i].n < 0 ? NULL : &seen[i];
	struct netns_listeners one, *l = *nseen < NETNS_MAX ? &seen[(*nseen)++] : &one;
	l->ns = (unsigned long long)st.st_ino;
	l->n = listeners(pid, port, l->inodes, LISTENERS_MAX);
	if (l->n < 0)
		return NULL;
	return l == &one ? NULL : l; /* more namespaces than a tree has: not told */
}

/* 1 if one of pid's open files is socket:[inode] for one of inodes; -1 if unreadable. */
static int holds(pid_t pid, const unsigned long *inodes, int n)
{
	char dir[64], link[64], want[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int found = 0;
	while (!found && (e = readdir(d))) {
		ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		for (int i = 0; i < n && !found; i++) {
			snprintf(want, sizeof(want), "socket:[%lu]", inodes[i]);
			found = !strcmp(link, want);
		}
	}
	closedir(d);
	return found;
}

int net_listeners_held(pid_t pid, unsigned long *inodes, int max)
{
	/* every listener of the namespace: the router's, the sshd's, one per instance forwarded */
	unsigned long *all = xcalloc(ALL_LISTENERS_MAX, sizeof(*all));
	int n = listeners(pid, -1, all, ALL_LISTENERS_MAX), held = 0;
	char dir[64], link[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	DIR *d = n < 0 ? NULL : opendir(dir);
	struct dirent *e;
	if (!d) {
		free(all);
		return -1;
	}
	while ((e = readdir(d)) && held < max) {
		ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		unsigned long inode;
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1)
			continue;
		for (int i = 0; i < n; i++)
			if (all[i] == inode) {
				inodes[held++] = inode;
				break;
			}
	}
	closedir(d);
	free(all);
	return held;
}

int net_holds_socket(pid_t pid, const unsigned long *inodes, int n)
{
	return holds(pid, inodes, n);
}

int net_tree_listens(pid_t pid, int port)
{
	struct netns_listeners seen[NETNS_MAX];
	int nseen = 0;
	pid_t tree[TREE_MAX];
	size_t have = proc_descendants(pid, tree, TREE_MAX), unreadable = 0;
	for (size_t i = 0; i < have; i++) {
		/* a socket counts in the namespace it listens in: the app's own, or the host's */
		const struct netns_listeners *l = listeners_of(tree[i], port, seen, &nseen);
		int r = !l ? -1 : l->n ? holds(tree[i], l->inodes, l->n) : 0;
		if (r == 1)
			return 1;
		unreadable += r < 0;
	}
	return unreadable ? -1 : 0;
}

int net_tree_serves(pid_t pid, int port)
{
	/* pid 0 (a service that is down) has no tree: proc_descendants() would take every process */
	/*
	 * listening first: a forwarder in front of a port nothing listens on yet
	 * accepts and then closes, which leaves the port in TIME_WAIT on the host
	 */
	return pid > 0 && net_tree_listens(pid, port) == 1 && net_accepts(port);
}
