#define _GNU_SOURCE
#include "exec/sandbox.h"

#include "exec/appnet.h"
#include "exec/limits.h"
#include "store/addons.h"
#include "store/attach.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/proc.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The system, read-only: directories, or (merged /usr) symlinks into /usr. */
static const char *const system_dirs[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32",
					   "/lib64", "/libx32", NULL };

/* What programs need from /etc; nothing else of it is seen. */
static const char *const etc_entries[] = {
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl",
	"/etc/ca-certificates", "/etc/ca-certificates.conf", "/etc/passwd", "/etc/group",
	"/etc/alternatives", "/etc/localtime", "/etc/ld.so.cache", "/etc/ld.so.conf",
	"/etc/ld.so.conf.d", NULL,
};

int sandbox_init(struct sandbox *sb, const char *root, const char *app, enum sandbox_use use)
{
	struct settings *s = NULL;
	uint64_t max = 0, tmp = 0;
	int mode = 0, net = 0, appnet = 0, err;

	*sb = (struct sandbox)SANDBOX_INIT;
	if ((err = settings_open(&s, root, app)))
		return err;
	/*
	 * the rows' words, by place: slipway.sandbox bwrap|none, slipway.buildNetwork shared|none,
	 * slipway.appNetwork private|host
	 */
	if (!(err = settings_enum(s, &SETTING_SANDBOX, &mode)) &&
	    !(err = settings_string(s, &SETTING_BWRAP, &sb->bwrap)) &&
	    !(err = settings_enum(s, &SETTING_BUILD_NETWORK, &net)) &&
	    !(err = settings_enum(s, &SETTING_APP_NETWORK, &appnet)) &&
	    !(err = settings_size(s, &SETTING_MAX_SLUG_UNPACKED_SIZE, &max)) &&
	    !(err = settings_size(s, &SETTING_TMP_SIZE, &tmp))) {
		sb->use = use;
		sb->off = mode == 1;
		sb->network = use == SANDBOX_RUN || net == 0;
		sb->appnet = !sb->off && appnet == 0;
		sb->max_file_size = max;
		sb->tmp_size = tmp;
	}
	settings_free(s);
	return err;
}

void sandbox_mount(struct sandbox *sb, const char *host, const char *inside, int writable)
{
	if (sb->n == SANDBOX_MOUNTS_MAX)
		abort(); /* a fixed set per job: more is a programming error */
	struct sandbox_mount *m = &sb->mounts[sb->n++];
	m->host = xstrdup(host);
	m->inside = xstrdup(inside);
	m->writable = writable;
}

/* The ports of sb->host_ports: how many, and whether port is one. */
static size_t host_ports_count(const struct sandbox *sb, int port, int *found)
{
	size_t n = 0;
	*found = 0;
	while (sb->host_ports[n] > 0)
		*found |= sb->host_ports[n++] == port;
	return n;
}

char *sandbox_addon_dir(const char *alias)
{
	char *dir = xasprintf("%s/%s", SANDBOX_ADDONS_DIR, alias);
	for (char *p = dir + strlen(SANDBOX_ADDONS_DIR); *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return dir;
}

/* One attached add-on: its socket directory at sandbox_addon_dir(), its port. */
static int add_addon(struct sandbox *sb, const char *root, const struct attachment *at)
{
	struct addon rec = ADDON_INIT;
	struct stat st;
	int err = addon_read(root, at->addon, &rec), found;
	if (err == SW_ENOTFOUND)
		return 0; /* destroyed: as a server that is down */
	if (err)
		return err;
	char *run = paths_addon_file(root, at->addon, "run");
	if (stat(run, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *inside = sandbox_addon_dir(at->alias);
		sandbox_mount(sb, run, inside, 1);
		free(inside);
	}
	free(run);
	size_t n = host_ports_count(sb, rec.port, &found);
	if (rec.port > 0 && !found)
		sb->host_ports[n] = rec.port;
	return 0;
}

int sandbox_addons(struct sandbox *sb, const char *root, const struct attachments *a)
{
	if (sb->off || !a->n)
		return 0;
	if (a->n > SANDBOX_ADDONS_MAX)
		return sw_error_set(SW_EINVALID, "cannot start the sandbox: %zu add-ons are "
				    "attached, at most %d are reachable (detach some with: "
				    "slipway addons:detach)", a->n, SANDBOX_ADDONS_MAX);
	for (size_t i = 0; i < a->n; i++) {
		int err = add_addon(sb, root, &a->v[i]);
		if (err)
			return err;
	}
	return 0;
}

/* The mount host lies under (longest match), or NULL; *rest is what follows. */
static const struct sandbox_mount *mount_of(const struct sandbox *sb, const char *host,
					    const char **rest)
{
	const struct sandbox_mount *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < sb->n; i++) {
		size_t n = strlen(sb->mounts[i].host);
		if (!strncmp(host, sb->mounts[i].host, n) && (host[n] == '\0' || host[n] == '/') &&
		    n >= best_len) {
			best = &sb->mounts[i];
			best_len = n;
		}
	}
	*rest = host + best_len;
	return best;
}

char *sandbox_path(const struct sandbox *sb, const char *host)
{
	const char *rest;
	const struct sandbox_mount *m = sb->off ? NULL : mount_of(sb, host, &rest);
	return m ? xasprintf("%s%s", m->inside, rest) : xstrdup(host);
}

/* A host entry as it is seen inside, read-only: a symlink stays a symlink. */
static void add_system(struct strvec *a, const char *path)
{
	struct stat st;
	char target[PATH_MAX];
	if (lstat(path, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			return;
		target[n] = '\0';
		strvec_push(a, "--symlink");
		strvec_push(a, target);
	} else {
		strvec_push(a, "--ro-bind");
		strvec_push(a, path);
	}
	strvec_push(a, path);
}

/* bwrap's options for this sandbox, up to and including "--". */
static void base_args(const struct sandbox *sb, struct strvec *a)
{
	strvec_push(a, sb->bwrap ? sb->bwrap : "bwrap");
	strvec_push(a, "--unshare-all");
	if (sb->network)
		strvec_push(a, "--share-net");
	strvec_push(a, "--die-with-parent");
	strvec_push(a, "--new-session");
	strvec_push(a, "--hostname");
	strvec_push(a, "slipway");
	for (size_t i = 0; system_dirs[i]; i++)
		add_system(a, system_dirs[i]);
	for (size_t i = 0; etc_entries[i]; i++)
		if (sb->resolv_fd <= 0 || strcmp(etc_entries[i], "/etc/resolv.conf"))
			add_system(a, etc_entries[i]);
	if (sb->resolv_fd > 0) {
		strvec_push(a, "--ro-bind-data");
		strvec_pushf(a, "%d", sb->resolv_fd);
		strvec_push(a, "/etc/resolv.conf");
	}
	strvec_push(a, "--proc");
	strvec_push(a, "/proc");
	strvec_push(a, "--dev");
	strvec_push(a, "/dev");
	if (sb->tty) {
		/* a devpts of bwrap's holds no file of the host's: a tmpfs holds the one */
		strvec_push(a, "--tmpfs");
		strvec_push(a, "/dev/pts");
		strvec_push(a, "--dev-bind");
		strvec_push(a, sb->tty);
		strvec_push(a, sb->tty);
	}
	if (sb->tmp_size) {
		strvec_push(a, "--size");
		strvec_pushf(a, "%llu", sb->tmp_size);
	}
	strvec_push(a, "--tmpfs");
	strvec_push(a, "/tmp");
	for (size_t i = 0; i < sb->n; i++) {
		strvec_push(a, sb->mounts[i].writable ? "--bind" : "--ro-bind");
		strvec_push(a, sb->mounts[i].host);
		strvec_push(a, sb->mounts[i].inside);
	}
}

static void fill_limits(const struct sandbox *sb, struct run_opts *o)
{
	o->no_core = 1;
	o->oom_score_adj = PROC_OOM_APP;
	if (sb->max_file_size && (!o->max_file_size || o->max_file_size > sb->max_file_size))
		o->max_file_size = sb->max_file_size;
}

void sandbox_command(const struct sandbox *sb, const char *const *argv, const char *dir,
		     int info_fd, struct strvec *out)
{
	base_args(sb, out);
	if (info_fd >= 0) {
		strvec_push(out, "--info-fd");
		strvec_pushf(out, "%d", info_fd);
	}
	if (sb->block_fd > 0) {
		strvec_push(out, "--block-fd");
		strvec_pushf(out, "%d", sb->block_fd);
	}
	if (dir) {
		char *inside = sandbox_path(sb, dir);
		strvec_push(out, "--chdir");
		strvec_push(out, inside);
		free(inside);
	}
	strvec_push(out, "--");
	for (size_t i = 0; argv[i]; i++) {
		char *p = argv[i][0] == '/' ? sandbox_path(sb, argv[i]) : xstrdup(argv[i]);
		strvec_push(out, p);
		free(p);
	}
}

void sandbox_read_info(int fd, unsigned long long *ns, pid_t *child)
{
	char text[2048];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(text) - 1 && (r = read(fd, text + n, sizeof(text) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	text[n] = '\0';
	char *p = strstr(text, "\"pid-namespace\":");
	*ns = p ? strtoull(p + 16, NULL, 10) : 0;
	p = strstr(text, "\"child-pid\":");
	*child = p ? (pid_t)atoi(p + 12) : 0;
}

/*
 * A command of sandbox_run() in a network of its own: bwrap's info, block
 * and resolv.conf fds, open across its exec (the child's ends) until it runs.
 */
struct own_net {
	int info[2], block[2], resolv[2];
	const int *host_ports;
	char dns[APPNET_ADDR_MAX];
	struct appnet net;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Pipes whose child ends (info[1], block[0], resolv[0]) bwrap inherits. */
static int own_net_open(struct own_net *n, struct sandbox *s)
{
	char *conf = NULL;
	int own_dns = appnet_resolv_conf("/etc/resolv.conf", &conf, n->dns), err = 0;
	if (pipe2(n->info, O_CLOEXEC) < 0 || pipe2(n->block, O_CLOEXEC) < 0 ||
	    (own_dns && (pipe2(n->resolv, O_CLOEXEC) < 0 ||
			 fs_write_all(n->resolv[1], conf, strlen(conf)) < 0)) ||
	    fcntl(n->info[1], F_SETFD, 0) < 0 || fcntl(n->block[0], F_SETFD, 0) < 0 ||
	    (own_dns && fcntl(n->resolv[0], F_SETFD, 0) < 0))
		err = sw_error_errno(SW_ERROR, "cannot start the sandbox");
	close_fd(&n->resolv[1]);
	free(conf);
	s->network = 0;
	s->block_fd = n->block[0];
	s->resolv_fd = own_dns ? n->resolv[0] : 0;
	return err;
}

/* run_opts.started: the forwarder for bwrap's namespace, then the command runs. */
static int own_net_started(pid_t pid, void *ctx)
{
	struct own_net *n = ctx;
	unsigned long long ns;
	pid_t child;
	int err;
	(void)pid;
	close_fd(&n->info[1]); /* this process's copies of bwrap's ends */
	close_fd(&n->block[0]);
	close_fd(&n->resolv[0]);
	sandbox_read_info(n->info[0], &ns, &child);
	if (child <= 0)
		return 0; /* bwrap failed: it says why */
	if ((err = appnet_start(&n->net, child, 0, n->host_ports, n->dns, -1)) < 0)
		return err;
	fs_write_all(n->block[1], "1", 1);
	close_fd(&n->block[1]);
	return 0;
}

static void own_net_close(struct own_net *n)
{
	appnet_stop(&n->net);
	for (int i = 0; i < 2; i++) {
		close_fd(&n->info[i]);
		close_fd(&n->block[i]);
		close_fd(&n->resolv[i]);
	}
}

/* What a run's child does before its exec: join its limits, then the caller's step (if any). */
struct child_steps {
	const struct limits *limits;
	void (*then)(void *ctx);
	void *then_ctx;
};

static void child_steps_run(void *ctx)
{
	const struct child_steps *c = ctx;
	if (limits_join(c->limits) < 0)
		_exit(127);
	if (c->then)
		c->then(c->then_ctx);
}

int sandbox_run(const struct sandbox *sb, const struct run_opts *o, int *status)
{
	struct run_opts ro = *o;
	struct strvec argv = STRVEC_INIT;
	struct own_net n = { { -1, -1 }, { -1, -1 }, { -1, -1 }, sb->host_ports, "", APPNET_INIT };
	struct sandbox s = *sb; /* shares its strings: never released */
	int err, own = !sb->off && sb->appnet && sb->use == SANDBOX_RUN;

	static const char *const minimal_env[] = { "PATH=" SANDBOX_PATH, NULL };
	fill_limits(sb, &ro);
	struct child_steps steps = { sb->limits, o->before_exec, o->before_exec_ctx };
	if (sb->limits) {
		ro.before_exec = child_steps_run;
		ro.before_exec_ctx = &steps;
	}
	if (!ro.check && sb->check) {
		ro.check = sb->check;
		ro.check_ctx = sb->check_ctx;
		ro.check_ms = sb->check_ms;
	}
	if (!ro.env)
		ro.env = minimal_env; /* never the server's environment */
	if (sb->off)
		return run_child(&ro, status);
	if (own && (err = own_net_open(&n, &s)) < 0)
		goto done;
	if (own) {
		ro.started = own_net_started;
		ro.started_ctx = &n;
	}
	sandbox_command(&s, o->argv, o->dir, own ? n.info[1] : -1, &argv);
	ro.argv = (const char *const *)argv.v;
	ro.dir = NULL; /* bwrap changes into it, inside */
	err = run_child(&ro, status);
	if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_ERROR, "cannot start the sandbox: bubblewrap ('%s') is not "
				   "installed (install the bubblewrap package, or set "
				   "slipway.sandbox none to run app code unsandboxed)",
				   sb->bwrap ? sb->bwrap : "bwrap");
done:
	own_net_close(&n);
	strvec_clear(&argv);
	return err;
}

struct first_line {
	char text[512];
};

static void keep_first(const char *line, size_t len, void *ctx)
{
	struct first_line *f = ctx;
	if (!f->text[0] && len)
		snprintf(f->text, sizeof(f->text), "%.*s", (int)len, line);
}

int sandbox_check(const struct sandbox *sb)
{
	const char *argv[] = { "/bin/true", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct run_opts o = RUN_OPTS_INIT;
	struct first_line why = { "" };
	int status = 0, err;

	if (sb->off)
		return 0;
	struct sandbox bare = *sb; /* shares bwrap: never released */
	bare.n = 0;
	bare.check = NULL; /* only whether one starts at all: the job's directories may not exist yet */
	bare.appnet = 0;
	sb = &bare;
	o.argv = argv;
	o.env = env;
	o.timeout_sec = 30;
	o.on_line = keep_first;
	o.ctx = &why;
	if ((err = sandbox_run(sb, &o, &status)) < 0)
		return err;
	if (status == 0)
		return 0;
	return sw_error_set(SW_ERROR, "cannot start the sandbox: %s (allow unprivileged user "
			    "namespaces: sysctl kernel.unprivileged_userns_clone=1, or set "
			    "slipway.sandbox none to run app code unsandboxed)",
			    why.text[0] ? why.text : "bwrap failed");
}

void sandbox_env(const struct sandbox *sb, const char *home, struct strvec *env)
{
	const char *path = getenv("PATH");
	char *inside = sandbox_path(sb, home);
	strvec_pushf(env, "PATH=%s", sb->off && path && *path ? path : SANDBOX_PATH);
	strvec_pushf(env, "HOME=%s", inside);
	free(inside);
}

void sandbox_release(struct sandbox *sb)
{
	for (size_t i = 0; i < sb->n; i++) {
		free(sb->mounts[i].host);
		free(sb->mounts[i].inside);
	}
	sb->n = 0;
	sb->host_ports[0] = 0;
	free(sb->bwrap);
	sb->bwrap = NULL;
}
