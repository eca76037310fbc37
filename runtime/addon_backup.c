#define _GNU_SOURCE
#include "runtime/addon_backup.h"

#include "runtime/addon.h"
#include "runtime/addon_pg.h"
#include "runtime/supervisor.h"
#include "store/addons.h"
#include "store/backups.h"
#include "store/cas.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/run.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int addon_backup_supported(const struct addon *a)
{
	if (!strcmp(a->kind, "postgresql"))
		return 0;
	return sw_error_set(SW_EINVALID, "%s is a %s add-on: backups are of PostgreSQL add-ons "
			    "only", a->name, a->kind);
}

/* ---- running PostgreSQL's programs ---- */

static volatile sig_atomic_t interrupted;
/*
 * 1 while the scratch cluster's server is started or stopped: never cut
 * short (a start cut short could leave a server no stop finds; the stop
 * is how an interrupt cleans up)
 */
static int cleaning;

void addon_backup_interrupt(void)
{
	interrupted = 1;
}

/* run_child()'s check: an interrupted capture ends its child (and so its step) now. */
static int check_interrupted(void *ctx)
{
	(void)ctx;
	return interrupted && !cleaning ? sw_error_set(SW_ERROR, "interrupted") : 0;
}

/* Keeps the last lines of a child's output for the message when it fails. */
static void collect(const char *line, size_t len, void *ctx)
{
	struct buf *b = ctx;
	if (b->len > 2000)
		buf_reset(b);
	buf_addf(b, "%s%.*s", b->len ? "; " : "", (int)len, line);
}

/*
 * Runs the program prog of PostgreSQL major with args (NULL-ended) and the
 * environment env; SW_ERROR with its output when it fails.  capture: its
 * stdout (NULL: into the message).
 */
static int pg_prog(int major, const char *prog, const char *const *args, const char *const *env,
		   struct buf *capture)
{
	char *bin = addon_pg_bindir(major), *path = xasprintf("%s/%s", bin, prog);
	const char *argv[24];
	struct buf out = BUF_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	size_t n = 0;
	int status = -1, err;
	argv[n++] = path;
	for (size_t i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	o.argv = argv;
	o.env = env;
	o.on_line = collect;
	o.ctx = &out;
	o.capture = capture;
	o.capture_max = 64 << 20;
	o.check = check_interrupted;
	o.check_ms = 200;
	/* an interrupt between two steps ends the capture as well as one during a step */
	if (!(err = check_interrupted(NULL)))
		err = run_child(&o, &status);
	if (!err)
		err = check_interrupted(NULL);
	if (!err && status)
		err = sw_error_set(SW_ERROR, "%s failed (exit %d): %s", prog, status,
				   out.len ? out.data : "no output");
	buf_release(&out);
	free(path);
	free(bin);
	return err;
}

/* The environment of a client of a's server as its superuser (the password, never in argv). */
struct pg_login {
	char password[160];
	char port[16];
	char *sock;
	const char *env[5];
	struct addon_credentials c;
};

static int login_init(struct pg_login *l, const char *root, const struct addon *a)
{
	memset(l, 0, sizeof(*l));
	int err = addon_credentials_read(root, a->name, &l->c);
	if (err)
		return err;
	snprintf(l->password, sizeof(l->password), "PGPASSWORD=%s", l->c.superpassword);
	snprintf(l->port, sizeof(l->port), "%d", a->port);
	l->sock = paths_addon_file(root, a->name, "run");
	l->env[0] = l->password;
	l->env[1] = "PGCONNECT_TIMEOUT=30";
	l->env[2] = "PATH=/usr/bin:/bin";
	l->env[3] = "LC_ALL=C.UTF-8";
	return 0;
}

static void login_release(struct pg_login *l)
{
	free(l->sock);
	memset(l, 0, sizeof(*l));
}

static const char *const plain_env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", NULL };

/* ---- the restore test ---- */

/*
 * The tables the dump's table of contents lists: its "TABLE" entries
 * ("215; 1259 16385 TABLE public t owner"), not "TABLE DATA".
 */
static int dump_tables(int major, const char *dump, int *tables)
{
	struct buf toc = BUF_INIT;
	const char *args[] = { "-l", dump, NULL };
	int err = pg_prog(major, "pg_restore", args, plain_env, &toc);
	struct text_lines it = TEXT_LINES_INIT(toc.data, toc.len);
	const char *s;
	size_t n;
	*tables = 0;
	while (!err && text_lines_next(&it, &s, &n)) {
		char *line = xstrndup(s, n), *p = strchr(line, ';');
		unsigned long id1, id2;
		int used = 0;
		if (line[0] != ';' && p && sscanf(p + 1, " %lu %lu %n", &id1, &id2, &used) == 2 &&
		    used && !strncmp(p + 1 + used, "TABLE ", 6) && strncmp(p + 1 + used, "TABLE DATA ", 11))
			(*tables)++;
		free(line);
	}
	buf_release(&toc);
	return err;
}

/* A scratch cluster: its directory, data, socket directory, and whether it runs. */
struct scratch {
	char *dir, *data, *log, *sock;
	int running;     /* its server was started (it may run): scratch_end() stops it */
	pid_t starting;  /* pg_ctl start, while it runs (scratch_launch()) */
};

static const char scratch_conf[] =
	"\n# written by slipway: a scratch cluster for a restore test, unix socket only\n"
	"listen_addresses = ''\n"
	"port = 5432\n"
	"fsync = off\n"
	"full_page_writes = off\n"
	"synchronous_commit = off\n"
	"max_wal_size = 4GB\n"
	"maintenance_work_mem = 64MB\n"
	"logging_collector = off\n"
	"unix_socket_directories = ";

/*
 * The pristine cluster of PostgreSQL major the scratch clusters are copies
 * of (a copy is several times quicker than initdb): made once, by initdb
 * into a temporary directory renamed into place when complete (*out,
 * malloc'ed: its data directory).
 */
static int scratch_template(const char *root, int major, char **out)
{
	char *top = paths_backups_dir(root), *tpl = paths_backups_template(root, major);
	char *tmp = NULL, *data = NULL;
	int err = 0;
	*out = xasprintf("%s/data", tpl);
	if (fs_is_dir(*out) || (err = fs_mkdir_p(top, 0755)) ||
	    (err = fs_mkdtemp(top, ".template-new-", &tmp)))
		goto done;
	data = xasprintf("%s/data", tmp);
	const char *initdb[] = { "-D", data, "-U", "slipway", "--auth=trust", "--encoding=UTF8",
				 "--locale=C.UTF-8", "--no-instructions", "--no-sync",
				 /* 1 MB of WAL to copy, not 16 */
				 "--wal-segsize=1", NULL };
	if (!(err = pg_prog(major, "initdb", initdb, plain_env, NULL)) && rename(tmp, tpl) < 0 &&
	    !fs_is_dir(*out)) /* another capture's rename came first: its template is as good */
		err = sw_error_errno(SW_ERROR, "cannot rename '%s'", tmp);
	if (tmp && fs_exists(tmp))
		fs_rm_rf(tmp);
done:
	free(data);
	free(tmp);
	free(tpl);
	free(top);
	return err;
}

/* A scratch cluster's files: a copy of the template, its socket directory of its own. */
static int scratch_prepare(struct scratch *s, const char *root, const struct addon *a, int major)
{
	char *backups = paths_addon_backups(root, a->name), *conf = NULL, *text = NULL;
	char *tpl = NULL;
	struct buf b = BUF_INIT;
	size_t len = 0;
	int err;
	memset(s, 0, sizeof(*s));
	if ((err = fs_mkdtemp(backups, ".restore-test-", &s->dir)) ||
	    (err = fs_mkdtemp("/tmp", "slipway-pg-", &s->sock)) ||
	    (err = scratch_template(root, major, &tpl)))
		goto done;
	s->data = xasprintf("%s/data", s->dir);
	s->log = xasprintf("%s/log", s->dir);
	if ((err = fs_copy_tree(tpl, s->data)))
		goto done;
	conf = xasprintf("%s/postgresql.conf", s->data);
	if ((err = fs_read_file(conf, 1 << 20, &text, &len)))
		goto done;
	buf_add(&b, text, len);
	buf_addf(&b, "%s'%s'\n", scratch_conf, s->sock); /* mkdtemp's name has no quote */
	err = fs_write_atomic(conf, b.data, b.len, 0600);
done:
	buf_release(&b);
	free(text);
	free(conf);
	free(tpl);
	free(backups);
	return err;
}

static int reap(pid_t pid);

/* Stops the scratch cluster's server (immediately: it is thrown away) and removes it. */
static void scratch_end(struct scratch *s, int major)
{
	struct sw_error_state first;
	sw_error_save(&first, SW_ERROR);
	if (s->starting > 0) /* its start runs to its end (bounded by -t), then it is stopped */
		reap(s->starting);
	if (s->running) {
		const char *stop[] = { "-D", s->data, "-m", "immediate", "-w", "stop", NULL };
		cleaning = 1;
		pg_prog(major, "pg_ctl", stop, plain_env, NULL);
		cleaning = 0;
	}
	if (s->dir)
		fs_rm_rf(s->dir);
	if (s->sock)
		rmdir(s->sock);
	sw_error_restore(&first);
	free(s->dir);
	free(s->data);
	free(s->log);
	free(s->sock);
	memset(s, 0, sizeof(*s));
}

/* Counts the tables of the scratch cluster's database postgres. */
static int scratch_tables(const struct scratch *s, int major, int *tables)
{
	struct buf out = BUF_INIT;
	const char *args[] = { "-X", "-q", "-A", "-t", "-h", s->sock, "-p", "5432", "-U", "slipway",
			       "-d", "postgres", "-c",
			       "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
			       "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN "
			       "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
			       NULL };
	int err = pg_prog(major, "psql", args, plain_env, &out);
	if (!err && sscanf(out.data ? out.data : "", "%d", tables) != 1)
		err = sw_error_set(SW_ERROR, "psql said '%s', not a count of tables",
				   out.data ? out.data : "");
	buf_release(&out);
	return err;
}

/* ---- capture ---- */

/*
 * What a killed capture left in the backups directory (under its lock): a
 * temporary dump, a scratch cluster (whose server is stopped first).
 */
static void sweep_leftovers(const char *dir, int major)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *path = xasprintf("%s/%s", dir, e->d_name);
		if (!strncmp(e->d_name, ".restore-test-", 14)) {
			struct scratch s = { .dir = xstrdup(path), .data = xasprintf("%s/data", path),
					     .running = 1 };
			scratch_end(&s, major);
		} else if (e->d_name[0] == '.' && strstr(e->d_name, ".dump.tmp")) {
			unlink(path);
		}
		free(path);
	}
	if (d)
		closedir(d);
}

/* ---- the dump, streamed into its restore test ---- */

/*
 * Starts argv with the environment env in a process group of its own, its
 * signals at their defaults: stdin from in (-1: /dev/null), stdout to out,
 * stderr to err.
 */
static int spawn(const char *const *argv, const char *const *env, int in, int out, int err,
		 pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def, none;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	sigfillset(&def);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSIGMASK);
	int rc = posix_spawn(pid, argv[0], &fa, &at, (char *const *)argv, (char *const *)env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc)
		*pid = 0;
	return rc ? sw_error_set(SW_ERROR, "cannot run '%s': %s", argv[0], strerror(rc)) : 0;
}

/* Waits for pid: its exit status, 128+signal when a signal ended it. */
static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 255;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The last lines of what a child said on its stderr (file), as one line (malloc'ed). */
static char *said(const char *file)
{
	char *text = NULL;
	size_t len = 0;
	struct buf b = BUF_INIT;
	if (fs_read_file(file, 1 << 20, &text, &len) == 0) {
		size_t from = len > 1000 ? len - 1000 : 0;
		for (size_t i = from; i < len; i++)
			buf_add(&b, text[i] == '\n' ? "; " : &text[i], text[i] == '\n' ? 2 : 1);
	}
	free(text);
	while (b.len > 2 && !strcmp(b.data + b.len - 2, "; "))
		b.data[b.len -= 2] = '\0';
	char *out = xstrdup(b.len ? b.data : "no output");
	buf_release(&b);
	return out;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Starts the scratch cluster's server: pg_ctl start, which returns once it accepts (s->starting). */
static int scratch_launch(struct scratch *s, int major)
{
	char *bin = addon_pg_bindir(major), *pg_ctl = xasprintf("%s/pg_ctl", bin);
	char *log = xasprintf("%s/pg_ctl.err", s->dir);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), err;
	const char *argv[] = { pg_ctl, "-D", s->data, "-l", s->log, "-w", "-t", "300", "start", NULL };
	if (fd < 0)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", log);
	else if (!(err = spawn(argv, plain_env, -1, fd, fd, &s->starting)))
		s->running = 1; /* even a failed start may leave a server: it is stopped */
	if (fd >= 0)
		close(fd);
	free(log);
	free(pg_ctl);
	free(bin);
	return err;
}

/* What dump_streamed() starts, and what it must end and close. */
struct stream {
	int pipe[2], sock[2], file, dump_err, restore_err;
	pid_t dump, restore;
	const char *const *restore_argv;
	int feeding;        /* pg_restore takes what is sent (until it ends) */
	int start_failed;   /* the scratch server did not start: pg_ctl's exit status */
};

/*
 * Once the scratch server accepts (pg_ctl start ended: wait, or only when
 * it has), starts pg_restore and sends it what the file holds so far.
 */
static int restore_begin(struct stream *st, struct scratch *s, int wait, uint64_t written)
{
	int status = 0;
	if (st->restore || st->start_failed || s->starting <= 0)
		return 0;
	if (wait) {
		status = reap(s->starting);
	} else {
		int ws = 0;
		pid_t r = waitpid(s->starting, &ws, WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR))
			return 0;
		status = r < 0 ? 255 : WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
	s->starting = 0;
	if (status) {
		st->start_failed = status;
		return 0;
	}
	int err = spawn(st->restore_argv, plain_env, st->sock[1], st->restore_err, st->restore_err,
			&st->restore);
	close(st->sock[1]); /* pg_restore has it: the end of the dump is our close of sock[0] */
	st->sock[1] = -1;
	if (err)
		return err;
	/* what came before it could start, from the file */
	char chunk[65536];
	for (uint64_t off = 0; st->feeding && off < written;) {
		size_t want = written - off < sizeof(chunk) ? (size_t)(written - off) : sizeof(chunk);
		ssize_t n = pread(st->file, chunk, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sw_error_errno(SW_ERROR, "cannot read the dump back");
		if (send_all(st->sock[0], chunk, (size_t)n) < 0)
			st->feeding = 0;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Copies what pg_dump writes until its end into the file (hashing it) and
 * to pg_restore, started as soon as the scratch server accepts; a
 * pg_restore that ended is no longer fed (its status says why).
 */
static int pump(struct stream *st, struct scratch *s, struct cas_hasher *h, uint64_t *size)
{
	char chunk[65536];
	int err = 0;
	for (;;) {
		if ((err = check_interrupted(NULL)) || (err = restore_begin(st, s, 0, *size)))
			return err;
		ssize_t n = read(st->pipe[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_errno(SW_ERROR, "cannot read the dump");
		if (n == 0)
			break;
		if (fs_write_all(st->file, chunk, (size_t)n) < 0)
			return sw_error_errno(SW_ERROR, "cannot write the dump");
		if (cas_hasher_add(h, chunk, (size_t)n) < 0)
			return SW_ERROR;
		*size += (uint64_t)n;
		if (st->restore && st->feeding && send_all(st->sock[0], chunk, (size_t)n) < 0)
			st->feeding = 0;
	}
	/* the dump ended before the scratch server was up: it gets all of it now */
	return restore_begin(st, s, 1, *size);
}

static void stream_end(struct stream *st, int kill_them)
{
	int *fds[] = { &st->pipe[0], &st->pipe[1], &st->sock[0], &st->sock[1], &st->file,
		       &st->dump_err, &st->restore_err };
	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	pid_t *pids[] = { &st->dump, &st->restore };
	for (size_t i = 0; i < 2; i++)
		if (*pids[i] > 0) {
			if (kill_them)
				kill(-*pids[i], SIGKILL);
			reap(*pids[i]);
			*pids[i] = 0;
		}
}

/*
 * pg_dump -Fc of the app's database: its bytes go to tmp (hashed: b->sha256,
 * b->size; synced) and, as they come, to pg_restore into the scratch cluster
 * s as soon as its server (started by scratch_launch()) accepts, so the dump
 * and its restore run at once, as pg_dump | pg_restore does.  SW_ERROR when
 * the dump failed; *restore_failed (with *why, malloc'ed) when the scratch
 * server or pg_restore did.
 */
static int dump_streamed(const char *root, const struct addon *a, struct scratch *s,
			 const char *tmp, struct backup *b, int *restore_failed, char **why)
{
	struct stream st = { .pipe = { -1, -1 }, .sock = { -1, -1 }, .file = -1, .dump_err = -1,
			     .restore_err = -1, .feeding = 1 };
	struct cas_hasher h = CAS_HASHER_INIT;
	struct pg_login l;
	uint64_t size = 0;
	char *bin = addon_pg_bindir(a->major), *pg_dump = xasprintf("%s/pg_dump", bin);
	char *pg_restore = xasprintf("%s/pg_restore", bin);
	char *dump_log = xasprintf("%s/dump.err", s->dir), *restore_log = xasprintf("%s/restore.err", s->dir);
	int err = login_init(&l, root, a), dump_status = 0, restore_status = 0;
	/* the roles of the add-on are not the scratch cluster's: objects go to its superuser */
	const char *restore_argv[] = { pg_restore, "-h", s->sock, "-p", "5432", "-U", "slipway",
				       "-d", "postgres", "--no-owner", "--no-acl", "--exit-on-error",
				       NULL };
	st.restore_argv = restore_argv;
	*restore_failed = 0;
	if (err)
		goto done;
	if (pipe2(st.pipe, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st.sock) < 0 ||
	    (st.file = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    (st.dump_err = open(dump_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    (st.restore_err = open(restore_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot set up the dump '%s'", tmp);
		goto done;
	}
	const char *dump_argv[] = { pg_dump, "-Fc", "-h", l.sock, "-p", l.port, "-U", l.c.superuser,
				    "-d", l.c.database, NULL };
	if ((err = cas_hasher_start(&h)) ||
	    (err = spawn(dump_argv, l.env, -1, st.pipe[1], st.dump_err, &st.dump)))
		goto done;
	close(st.pipe[1]); /* pg_dump has it: the end of the dump is its exit */
	st.pipe[1] = -1;
	if ((err = pump(&st, s, &h, &size)))
		goto done;
	close(st.sock[0]); /* pg_restore reads the end of the dump */
	st.sock[0] = -1;
	dump_status = reap(st.dump);
	restore_status = st.restore ? reap(st.restore) : 0;
	st.dump = st.restore = 0;
	if (dump_status) {
		char *what = said(dump_log);
		err = sw_error_set(SW_ERROR, "pg_dump failed (exit %d): %s", dump_status, what);
		free(what);
	} else if (fsync(st.file) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot sync '%s'", tmp);
	} else if (!(err = cas_hasher_finish(&h, b->sha256))) {
		b->size = (int64_t)size;
		char *pg_ctl_log = xasprintf("%s/pg_ctl.err", s->dir);
		char *what = said(st.start_failed ? pg_ctl_log : restore_log);
		if (st.start_failed || restore_status) {
			*restore_failed = 1;
			*why = xasprintf("%s failed (exit %d): %s", st.start_failed ? "pg_ctl start" :
					 "pg_restore", st.start_failed ? st.start_failed :
					 restore_status, what);
		}
		free(what);
		free(pg_ctl_log);
	}
done:
	stream_end(&st, err != 0);
	cas_hasher_release(&h);
	if (l.sock)
		login_release(&l);
	free(restore_log);
	free(dump_log);
	free(pg_restore);
	free(pg_dump);
	free(bin);
	return err;
}

/* The restore test's count: the tables in the scratch cluster are those the dump lists. */
static int tables_match(const struct scratch *s, int major, const char *dump, int *tables)
{
	int want = 0, err = dump_tables(major, dump, &want);
	if (!err && !(err = scratch_tables(s, major, tables)) && *tables != want)
		err = sw_error_set(SW_ERROR, "the restore test found %d table%s, the dump lists %d",
				   *tables, *tables == 1 ? "" : "s", want);
	return err;
}

/*
 * The dump and its restore test into a scratch cluster, at once: b's
 * fields.  SW_ERROR with "the dump failed: ..." or "the restore test
 * failed: ..." (b->restore "failed").
 */
static int dump_and_test(const char *root, const struct addon *a, const char *tmp,
			 struct backup *b)
{
	struct scratch s;
	char *why = NULL;
	int restore_failed = 0, err = scratch_prepare(&s, root, a, a->major);
	if (!err)
		err = scratch_launch(&s, a->major); /* it starts while the dump begins */
	if (err) {
		restore_failed = 1;
	} else if ((err = dump_streamed(root, a, &s, tmp, b, &restore_failed, &why))) {
		sw_error_prefix(err, "the dump failed: ");
	} else if (restore_failed) {
		err = sw_error_set(SW_ERROR, "%s", why);
	} else if ((err = tables_match(&s, a->major, tmp, &b->tables))) {
		restore_failed = 1;
	}
	if (err && restore_failed) {
		snprintf(b->restore, sizeof(b->restore), "failed");
		sw_error_prefix(err, "the restore test failed: ");
	}
	scratch_end(&s, a->major);
	free(why);
	return err;
}

/* The dump, its restore test and its place: b's fields; the tmp file is gone after. */
static int take(const char *root, const struct addon *a, const char *dir, struct backup *b)
{
	char id[16], *tmp, *final = backup_dump_path(root, a->name, b->number);
	backup_id(b->number, id);
	tmp = xasprintf("%s/.%s.dump.tmp", dir, id);
	int err = dump_and_test(root, a, tmp, b);
	if (err) {
		/* its message says which failed */
	} else if ((err = check_interrupted(NULL))) {
		/* its message: addon_backup_capture() says it was interrupted */
	} else if (rename(tmp, final) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot rename '%s'", tmp);
	} else {
		snprintf(b->restore, sizeof(b->restore), "passed");
		err = fs_fsync_dir(dir);
	}
	if (err)
		unlink(tmp);
	free(tmp);
	free(final);
	return err;
}

static int keep_count(const char *root, int *keep)
{
	struct settings *s = NULL;
	uint64_t v = 7;
	int err = settings_open(&s, root, NULL);
	if (!err)
		err = settings_count(s, &SETTING_ADDON_BACKUPS, &v);
	settings_free(s);
	*keep = (int)v;
	return err;
}

int addon_backup_capture(const char *root, const struct addon *a, const char *app, int wait_sec,
			 struct backup *out)
{
	struct lock lk = LOCK_INIT;
	char *dir = paths_addon_backups(root, a->name), *locked = NULL;
	int err, keep = 7, removed = 0;
	memset(out, 0, sizeof(*out));
	if ((err = addon_backup_supported(a)) || (err = keep_count(root, &keep)) ||
	    (err = fs_mkdir_p(dir, 0755)))
		goto done;
	locked = xasprintf("%s/", dir); /* the directory itself is the lock */
	if ((err = lock_acquire(&lk, locked, wait_sec, NULL, NULL)) == SW_ELOCKED)
		sw_error_set(err, "a backup of %s is being captured now: try again when it is done",
			     a->name);
	if (err || (err = backup_next_number(root, a->name, &out->number)))
		goto done;
	sweep_leftovers(dir, a->major);
	snprintf(out->app, sizeof(out->app), "%s", app ? app : a->app);
	out->created = (int64_t)time(NULL);
	snprintf(out->restore, sizeof(out->restore), "none");
	err = take(root, a, dir, out);
	out->finished = (int64_t)time(NULL);
	snprintf(out->status, sizeof(out->status), "%s", err ? "failed" : "completed");
	if (err && interrupted) {
		err = sw_error_set(SW_ERROR, "the backup of %s was interrupted", a->name);
	} else if (err) {
		struct sw_error_state first;
		snprintf(out->error, sizeof(out->error), "%s", sw_error_last());
		out->size = 0;
		out->sha256[0] = '\0';
		sw_error_save(&first, err);
		backup_write(root, a->name, out);
		err = sw_error_restore(&first);
	} else if (!(err = backup_write(root, a->name, out))) {
		err = backups_prune(root, a->name, keep, &removed);
	}
done:
	lock_release(&lk);
	free(locked);
	free(dir);
	return err;
}

/* ---- restore ---- */

int addon_backup_check(const char *root, const char *addon, const struct backup *b)
{
	char id[16], hex[CAS_HEX_LEN + 1];
	uint64_t size = 0;
	backup_id(b->number, id);
	if (strcmp(b->status, "completed"))
		return sw_error_set(SW_ENOTFOUND, "backup %s of %s failed: it has no dump", id, addon);
	char *path = backup_dump_path(root, addon, b->number);
	int err = cas_hash_file(path, hex, &size);
	if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_ENOTFOUND, "the dump of backup %s of %s is missing", id, addon);
	else if (!err && (strcmp(hex, b->sha256) || (int64_t)size != b->size))
		err = sw_error_set(SW_EINVALID, "backup %s of %s is corrupted: its checksum is not "
				   "the one recorded when it was taken", id, addon);
	free(path);
	return err;
}

int addon_backup_restore(const char *root, const struct addon *a, const char *addon,
			 const struct backup *b)
{
	struct pg_login l;
	int err;
	if ((err = addon_backup_supported(a)) || (err = addon_backup_check(root, addon, b)) ||
	    (err = login_init(&l, root, a)))
		return err;
	char *path = backup_dump_path(root, addon, b->number);
	char *role = xasprintf("--role=%s", l.c.owner[0] ? l.c.owner : l.c.user);
	/*
	 * one transaction: a restore that fails half-way leaves the database as
	 * it was.  What it makes is the role's that owns what the apps' logins
	 * make (store/addons.h: owner, else the one login), as what the app
	 * makes is (the dump's owners may be another add-on's roles); grants
	 * only between the roles of the same add-on.
	 */
	const char *args[] = { "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
			       "--no-owner", role, "-h", l.sock, "-p", l.port, "-U", l.c.superuser,
			       "-d", l.c.database, path,
			       strcmp(addon, a->name) ? "--no-acl" : NULL, NULL };
	err = pg_prog(a->major, "pg_restore", args, l.env, NULL);
	free(role);
	free(path);
	login_release(&l);
	return err;
}

/* ---- the schedule ---- */

/* 1 when the add-on's server is up and ready (a down one is not dumped). */
static int addon_ready(const char *root, const struct addon *a)
{
	char *service = addon_service_name(a->name);
	struct service_state st;
	int ready = supervisor_service_state(root, service, &st) == 0 && st.up && st.ready;
	free(service);
	return ready;
}

/* 1 when a's backup is due at now: none completed within a day, none tried within an hour. */
static int backup_due(const char *root, const struct addon *a, int64_t now)
{
	struct backup *v = NULL;
	size_t n = 0;
	int64_t completed = 0, tried = 0;
	if (backups_list(root, a->name, &v, &n) < 0) {
		free(v);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].status, "completed") && v[i].created > completed)
			completed = v[i].created;
		if (v[i].created > tried)
			tried = v[i].created;
	}
	free(v);
	return now - completed >= ADDON_BACKUP_EVERY && now - tried >= ADDON_BACKUP_RETRY;
}

int addon_backup_due(const char *root, int64_t now, struct strvec *out)
{
	struct strvec names = STRVEC_INIT;
	int err = addons_list(root, &names);
	for (size_t i = 0; !err && i < names.n; i++) {
		struct addon a;
		if (addon_read(root, names.v[i], &a) < 0 || addon_backup_supported(&a) < 0)
			continue;
		if (addon_ready(root, &a) && backup_due(root, &a, now))
			strvec_push(out, a.name);
	}
	strvec_clear(&names);
	return err;
}

static int has_pg_addon(const char *root)
{
	struct strvec names = STRVEC_INIT;
	int found = 0;
	addons_list(root, &names);
	for (size_t i = 0; !found && i < names.n; i++) {
		struct addon a;
		found = addon_read(root, names.v[i], &a) == 0 && addon_backup_supported(&a) == 0;
	}
	strvec_clear(&names);
	return found;
}

int addon_backup_schedule_ensure(const char *root)
{
	if (!has_pg_addon(root))
		return 0;
	return supervisor_schedule_ensure(root, ADDON_BACKUP_SERVICE,
					  "the daily backups of PostgreSQL add-ons", "pg:backups:schedule");
}
