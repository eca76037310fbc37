#define _GNU_SOURCE
#include "exec/sbcheck.h"

#include "store/cas.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The kernel's switches on unprivileged user namespaces (absent ones count as absent). */
static const char *const policy_files[] = {
	"/proc/sys/kernel/unprivileged_userns_clone",
	"/proc/sys/user/max_user_namespaces",
	"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
	NULL,
};

/* Adds path's identity (or its absence) to key. */
static void add_program(struct buf *key, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		buf_addf(key, "%s absent %d\n", path, errno);
		return;
	}
	buf_addf(key, "%s %llu %llu %llu %o %u %lld.%09ld %lld.%09ld\n", path,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_size, (unsigned)st.st_mode, (unsigned)st.st_uid,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* Every bwrap the check or a job may run: slipway.bwrap, or "bwrap" along both PATHs. */
static void add_programs(struct buf *key, const struct sandbox *sb)
{
	static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", NULL };
	const char *prog = sb->bwrap ? sb->bwrap : "bwrap";
	if (strchr(prog, '/')) {
		add_program(key, prog);
		return;
	}
	for (size_t i = 0; dirs[i]; i++) {
		char *path = xasprintf("%s/%s", dirs[i], prog);
		add_program(key, path);
		free(path);
	}
}

static void add_file(struct buf *key, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	if (fs_read_file(path, 256, &text, &len) == 0)
		buf_addf(key, "%s=%.*s", path, (int)len, text);
	else
		buf_addf(key, "%s absent\n", path);
	free(text);
}

/* The SHA-256 of everything the check's result depends on. */
static int check_key(const struct sandbox *sb, char hex[CAS_HEX_LEN + 1])
{
	static const char *const argv[] = { "/bin/true", NULL };
	struct sandbox bare = *sb; /* as sandbox_check() runs it: no mounts */
	struct strvec cmd = STRVEC_INIT;
	struct buf key = BUF_INIT;
	struct utsname u;
	int err;

	bare.n = 0;
	sandbox_command(&bare, argv, NULL, -1, &cmd);
	for (size_t i = 0; i < cmd.n; i++)
		buf_add(&key, cmd.v[i], strlen(cmd.v[i]) + 1);
	add_programs(&key, sb);
	for (size_t i = 0; policy_files[i]; i++)
		add_file(&key, policy_files[i]);
	if (uname(&u) == 0)
		buf_addf(&key, "%s %s %s\n", u.sysname, u.release, u.version);
	buf_addf(&key, "uid %u gid %u\n", (unsigned)geteuid(), (unsigned)getegid());
	err = cas_hash_data(key.data, key.len, hex);
	strvec_clear(&cmd);
	buf_release(&key);
	return err;
}

/* Leaves the stamp; quietly nothing when it cannot. */
static void stamp(const char *path)
{
	char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	int fd = fs_mkdir_p(dir, 0755) == 0
		 ? open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644) : -1;
	if (fd >= 0)
		close(fd);
	free(dir);
}

int sandbox_check_once(const struct sandbox *sb, const char *root)
{
	char hex[CAS_HEX_LEN + 1];
	struct stat st;
	if (sb->off)
		return 0;
	if (check_key(sb, hex) < 0)
		return sandbox_check(sb);
	char *path = paths_sandbox_checked(root, hex);
	int err = 0;
	/* the stamp is an empty file: its name is the whole of it, so it is never half-written */
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (!(err = sandbox_check(sb)))
			stamp(path);
	}
	free(path);
	return err;
}
