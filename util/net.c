#define _GNU_SOURCE
#include "util/net.h"

#include "util/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
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
#define TREE_MAX 512

/* The inodes of the sockets listening on port, from /proc/net/tcp and tcp6; -1 if unreadable. */
static int listeners(int port, unsigned long *inodes, int max)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	int n = 0, read_any = 0;
	char line[512];
	for (int f = 0; f < 2; f++) {
		FILE *in = fopen(files[f], "re");
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
			if (colon && strtol(colon + 1, NULL, 16) == port && n < max)
				inodes[n++] = inode;
		}
		fclose(in);
	}
	return read_any ? n : -1;
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

int net_tree_listens(pid_t pid, int port)
{
	unsigned long inodes[LISTENERS_MAX];
	int n = listeners(port, inodes, LISTENERS_MAX);
	if (n <= 0)
		return n;
	pid_t tree[TREE_MAX];
	size_t have = proc_descendants(pid, tree, TREE_MAX), unreadable = 0;
	for (size_t i = 0; i < have; i++) {
		int r = holds(tree[i], inodes, n);
		if (r == 1)
			return 1;
		unreadable += r < 0;
	}
	return unreadable ? -1 : 0;
}

int net_tree_serves(pid_t pid, int port)
{
	/* pid 0 (a service that is down) has no tree: proc_descendants() would take every process */
	return pid > 0 && net_accepts(port) && net_tree_listens(pid, port) == 1;
}
