#define _GNU_SOURCE
#include "builder/build.h"

#include "builder/buildpack.h"
#include "builder/checkout.h"
#include "builder/pipeline.h"
#include "builder/procfile.h"
#include "release/activate.h"
#include "exec/limits.h"
#include "exec/sandbox.h"
#include "exec/sbcheck.h"
#include "store/slug.h"
#include "builder/slugignore.h"
#include "store/app.h"
#include "store/appctx.h"
#include "builder/buildarea.h"
#include "store/builds.h"
#include "store/cas.h"
#include "store/paths.h"
#include "store/s3.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "builder/buildlimits.h"
#include "builder/outcap.h"
#include "store/ledger.h"
#include "util/say.h"
#include "util/units.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Shipped buildpacks, tried in this order when nothing else is configured. */
static const char *const shipped[] = { "node", "python", "make", "static", "procfile", NULL };

#ifndef SLIPWAY_BUILDPACKS_DIR
#define SLIPWAY_BUILDPACKS_DIR "/usr/share/slipway/buildpacks"
#endif

const char *build_buildpacks_dir(void)
{
	static char *dir;
	struct settings *s = NULL;
	if (!dir && settings_open(&s, NULL, NULL) == 0)
		settings_string(s, &SETTING_BUILDPACKS_DIR, &dir);
	settings_free(s);
	return dir ? dir : SLIPWAY_BUILDPACKS_DIR;
}

struct build {
	const struct build_opts *o;
	char *dir;       /* private temp dir of this build */
	char *app_dir;   /* <dir>/app: the tree that becomes the slug */
	char *env_dir;   /* <dir>/env: one file per config var */
	char *cache_dir; /* <root>/cache/<app> */
	char *bp_dir;    /* <dir>/buildpacks: private copies of the buildpacks */
	struct build_limits limits;
	struct sandbox sb;  /* where the buildpacks run */
	struct limits cg;   /* the cgroups they run in (exec/limits.h) */
	char *repo;      /* the app repository */
	struct checkout_plan *plan; /* the pushed tree, planned */
	int compile_failed;
	int release_failed;
	struct release r;
	struct activate_report report; /* what runs r, once recorded */
	struct config base;
	struct config bp_vars; /* the buildpacks' config_vars */
	struct timespec t0;
	FILE *out;       /* the pusher's terminal, and the build's log once it has one */
	FILE *log;       /* the build's log (store/builds.h), or NULL */
	struct outcap cap;  /* what of the output is shown and kept (slipway.maxBuildOutput) */
	int cap_said;    /* the pusher was told the output is being cut */
	struct build_record rec;
};

static void relay(const char *line, size_t len, void *ctx)
{
	const struct build *b = ctx;
	fwrite(line, 1, len, b->out);
	fputc('\n', b->out);
	fflush(b->out);
}

/* Writes to the pusher and to the build's log, if it has one. */
static void emit(struct build *b, const char *buf, size_t n)
{
	fwrite(buf, 1, n, b->o->out); /* a pusher gone away does not stop the build */
	fflush(b->o->out);
	if (b->log) {
		fwrite(buf, 1, n, b->log);
		fflush(b->log);
	}
}

/* The build's output: its head at once, then only its tail, at the end (cut_output). */
static ssize_t tee_write(void *ctx, const char *buf, size_t n)
{
	struct build *b = ctx;
	size_t now = outcap_take(&b->cap, buf, n);
	emit(b, buf, now);
	if (now < n && !b->cap_said) {
		char half[32];
		units_format_size(b->cap.tail_max, half, sizeof(half));
		say(b->o->out, SAY_STEP, "The build's output is longer than slipway.maxBuildOutput "
					 "allows: its last %s follow when the build ends", half);
		b->cap_said = 1;
	}
	return (ssize_t)n;
}

/* Writes the tail held back, after a line saying what was cut. */
static void cut_output(struct build *b)
{
	const char *tail;
	size_t len;
	char half[32];
	outcap_finish(&b->cap, &tail, &len);
	if (b->cap.cut_bytes) {
		units_format_size(b->cap.tail_max, half, sizeof(half));
		struct buf line = BUF_INIT;
		say_addf(&line, SAY_STEP, "%llu bytes (%llu lines) of build output cut here: "
					  "slipway.maxBuildOutput keeps the first and the last %s\n",
			 (unsigned long long)b->cap.cut_bytes, (unsigned long long)b->cap.cut_lines,
			 half);
		emit(b, line.data, line.len);
		buf_release(&line);
	}
	emit(b, tail, len);
	outcap_release(&b->cap);
}

/* Closes the build's log, if it has one: its output goes on to the pusher only. */
static void close_log(struct build *b)
{
	if (b->log)
		fclose(b->log);
	b->log = NULL;
}

/*
 * Starts the build's record and log (a new one, or for BUILD_RELEASE_BUILT
 * the one BUILD_ONLY began) and sends the output to both.  A build whose
 * record cannot be written goes on without one.
 */
static void keep_output(struct build *b, struct settings *s)
{
	uint64_t keep = BUILDS_KEEP_DEFAULT;
	int err;

	if (b->o->stage == BUILD_RELEASE_BUILT) {
		if (!b->rec.id)
			return;
		int id = b->rec.id;
		err = builds_read(b->o->ctx->root, b->o->ctx->app, id, &b->rec);
		b->rec.id = id;
		if (!err)
			err = builds_log_append(b->o->ctx->root, b->o->ctx->app, id, &b->log);
	} else {
		if (settings_count(s, &SETTING_KEEP_BUILDS, &keep) < 0)
			say(b->out, SAY_WARN, "%s", sw_error_last()); /* and the default bound */
		memcpy(b->rec.commit, b->o->rev, 40);
		b->rec.commit[40] = '\0';
		b->rec.user = xstrdup(b->o->user ? b->o->user : "");
		b->rec.source = xstrdup(b->o->retry ? "retry" : b->o->branch);
		err = builds_begin(b->o->ctx->root, b->o->ctx->app, &b->rec, keep > 1000000 ? 1000000 : (int)keep,
				   &b->log);
		if (!err)
			say(b->log, SAY_STEP, "Building %s from %s (%.7s)", b->o->ctx->app, b->o->branch,
			    b->o->rev);
	}
	if (err) {
		say(b->out, SAY_WARN, "This build's output is not kept: %s", sw_error_last());
		close_log(b);
	}
	static const cookie_io_functions_t tee = { .write = tee_write };
	FILE *f = fopencookie(b, "w", tee);
	if (!f) {
		close_log(b);
		return;
	}
	setvbuf(f, NULL, _IOLBF, 0); /* whole lines reach the cap */
	outcap_init(&b->cap, b->limits.max_output);
	b->out = f;
}

/* Shows the output's tail, records how the build ended and closes its log. */
static void finish_output(struct build *b, int built)
{
	if (b->out == b->o->out)
		return;
	fflush(b->out);
	cut_output(b);
	fclose(b->out);
	b->out = b->o->out;
	if (!b->log)
		return;
	close_log(b);
	b->rec.status = built ? BUILD_SUCCEEDED : BUILD_FAILED;
	if (b->r.version && b->o->stage != BUILD_ONLY)
		b->rec.release = b->r.version;
	builds_update(b->o->ctx->root, b->o->ctx->app, &b->rec);
}

static double lap(struct build *b)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double d = (double)(now.tv_sec - b->t0.tv_sec) + (double)(now.tv_nsec - b->t0.tv_nsec) / 1e9;
	b->t0 = now;
	return d;
}

static void on_lock_wait(void *ctx)
{
	const struct build *b = ctx;
	say(b->out, SAY_STEP, "Waiting for the build of %s already in progress", b->o->ctx->app);
}

static int write_env_dir(struct build *b)
{
	int err = fs_mkdir_p(b->env_dir, 0700);
	for (size_t i = 0; i < b->base.n && !err; i++) {
		char *path = xasprintf("%s/%s", b->env_dir, b->base.items[i].key);
		const char *v = b->base.items[i].value;
		err = fs_write_atomic(path, v, strlen(v), 0600);
		free(path);
	}
	return err;
}

/* Removes the slipway-built-* files of repo older than a day. */
static void sweep_built(const char *repo)
{
	DIR *d = opendir(repo);
	struct dirent *e;
	time_t now = time(NULL);
	while (d && (e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, PATHS_BUILT_PREFIX, strlen(PATHS_BUILT_PREFIX)) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    now - st.st_mtime < 86400)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

int build_sweep(const char *root, uint64_t *removed)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);
	*removed = 0;
	for (size_t i = 0; i < apps.n && !err; i++) {
		struct settings *s = NULL;
		uint64_t keep = BUILDS_KEEP_DEFAULT;
		int n = 0;
		if (!(err = settings_open(&s, root, apps.v[i])))
			err = settings_count(s, &SETTING_KEEP_BUILDS, &keep);
		settings_free(s);
		if (!err)
			err = builds_prune(root, apps.v[i], keep > 1000000 ? 1000000 : (int)keep, &n);
		*removed += (uint64_t)n;
		char *repo = app_repo_path(root, apps.v[i]);
		sweep_built(repo);
		free(repo);
		if (err == SW_ENOTFOUND) /* destroyed meanwhile */
			err = 0;
	}
	strvec_clear(&apps);
	return err;
}

const char *const *build_shipped_buildpacks(void)
{
	return shipped;
}

static void add_env(struct strvec *env, const char *key, const char *value)
{
	strvec_pushf(env, "%s=%s", key, value);
}

/*
 * Heroku's build environment, built rather than inherited: PATH, HOME (the
 * build dir), LANG, STACK and SOURCE_VERSION; config vars only through
 * ENV_DIR.  Unsandboxed, PATH is the server's, so its tools are found.
 */
static void build_env(struct build *b, struct strvec *env)
{
	const char *lang = getenv("LANG");
	sandbox_env(&b->sb, b->app_dir, env);
	add_env(env, "LANG", lang && *lang ? lang : "C.UTF-8");
	add_env(env, "STACK", b->limits.stack);
	add_env(env, "SOURCE_VERSION", b->o->rev);
}

/* Walk state of tree_bound (nftw has no context argument; builds are one at a time). */
static struct {
	uint64_t bytes, entries, max_bytes, max_entries;
} walk;

static int count_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F)
		walk.bytes += (uint64_t)st->st_size;
	walk.entries++;
	return walk.bytes > walk.max_bytes || walk.entries > walk.max_entries;
}

/*
 * Checked every two seconds while buildpacks run: the build directory may
 * not outgrow what its slug could hold, so a tiny push cannot fill the disk.
 */
static int tree_bound(void *ctx)
{
	const struct build *b = ctx;
	char size[32];
	walk.bytes = walk.entries = 0;
	walk.max_bytes = b->limits.max_unpacked ? b->limits.max_unpacked : UINT64_MAX;
	walk.max_entries = b->limits.max_files ? b->limits.max_files : UINT64_MAX;
	if (nftw(b->app_dir, count_entry, 16, FTW_PHYS) <= 0)
		return 0;
	if (walk.bytes > walk.max_bytes) {
		units_format_size(walk.max_bytes, size, sizeof(size));
		return sw_error_set(SW_EINVALID, "the build directory holds more than %s of files "
				    "(slipway.maxSlugUnpackedSize)", size);
	}
	return sw_error_set(SW_EINVALID, "the build directory holds more than %llu files and "
			    "directories (slipway.maxSlugFiles)", (unsigned long long)walk.max_entries);
}

/* The build's sandbox: BUILD_DIR at /app, CACHE_DIR, ENV_DIR and the buildpacks. */
static int open_sandbox(struct build *b)
{
	const char *root = b->o->ctx->root, *app = b->o->ctx->app;
	struct limits_spec spec;
	int err = sandbox_init(&b->sb, root, app, SANDBOX_BUILD);
	if (err || (err = sandbox_check_once(&b->sb, root)) ||
	    (err = limits_spec_read(root, app, "build", &spec)) ||
	    (err = limits_open(&b->cg, root, app, "build", &spec)))
		return err;
	b->sb.limits = &b->cg;
	if (b->sb.off)
		say(b->out, SAY_WARN, "Warning: slipway.sandbox is none: buildpacks and app code run "
				      "unsandboxed, as the server user");
	else if (!b->sb.appnet)
		say(b->out, SAY_WARN, "Warning: slipway.appNetwork is host: the app's processes share "
				      "the host's network, its loopback services included");
	b->sb.check = tree_bound;
	b->sb.check_ctx = b;
	b->sb.check_ms = 2000;
	sandbox_mount(&b->sb, b->app_dir, "/app", 1);
	sandbox_mount(&b->sb, b->cache_dir, "/cache", 1);
	sandbox_mount(&b->sb, b->env_dir, "/env", 0);
	sandbox_mount(&b->sb, b->bp_dir, "/buildpacks", 1);
	return fs_mkdir_p(b->bp_dir, 0700);
}

/*
 * Unsandboxed (slipway.sandbox none), a buildpack's process may leave its
 * process group (setsid) and outlive its buildpack, holding the build's
 * output.  The build adopts such orphans (a child subreaper) while the
 * buildpacks run and ends them after; a sandbox's own pid namespace ends
 * with its program, so it needs neither.
 */
static void adopt_orphans(const struct build *b)
{
	if (b->sb.off)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Kills and reaps the build's children and theirs, adopted in turn. */
static void end_orphans(const struct build *b)
{
	if (!b->sb.off)
		return;
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	for (int round = 0; round < 64; round++) { /* sets no error: the build's stays */
		FILE *f = fopen(path, "re");
		size_t len = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		if (f)
			fclose(f);
		text[len] = '\0';
		if (!len)
			break;
		for (char *p = text, *end; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p || (*end != ' ' && *end != '\n'))
				break; /* the end of a full buffer: never a pid cut short */
			if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
				waitpid((pid_t)pid, NULL, 0);
		}
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* Buildpack config vars fill in what the app does not set itself. */
static void add_bp_vars(struct build *b)
{
	for (size_t i = 0; i < b->bp_vars.n; i++)
		if (!config_get(&b->base, b->bp_vars.items[i].key))
			config_set(&b->base, b->bp_vars.items[i].key, b->bp_vars.items[i].value);
}

/* 1 if a failure of this build rejects a push (pre-receive), as "Push rejected" says. */
static int rejects_push(const struct build_opts *o)
{
	return !o->accepted && !o->retry;
}

static int compile(struct build *b)
{
	struct strvec env = STRVEC_INIT;
	struct proc_list procfile = PROC_LIST_INIT;
	struct pipeline_result res = PIPELINE_RESULT_INIT;
	struct pipeline_opts po = PIPELINE_OPTS_INIT;
	struct strvec specs = STRVEC_INIT;
	struct config *vars = &res.vars;
	const char *from;
	int err;

	if ((err = fs_mkdir_p(b->cache_dir, 0700)) || (err = write_env_dir(b)) ||
	    (err = open_sandbox(b)))
		goto done;
	build_env(b, &env);
	if ((err = pipeline_specs(b->o->ctx, b->app_dir, b->o->remote_user, &specs, &from)))
		goto done;
	po.root = b->o->ctx->root;
	po.sandbox = &b->sb;
	po.work_dir = b->bp_dir;
	po.app_dir = b->app_dir;
	po.cache_dir = b->cache_dir;
	po.env_dir = b->env_dir;
	po.env = (const char *const *)env.v;
	po.specs = &specs;
	po.shipped_dir = build_buildpacks_dir();
	po.shipped = shipped;
	po.timeout_sec = b->limits.compile_timeout_sec;
	po.max_bytes = b->limits.max_unpacked;
	po.max_entries = b->limits.max_files;
	po.on_line = relay;
	po.ctx = b;
	po.accepted = !rejects_push(b->o);
	adopt_orphans(b);
	err = pipeline_run(&po, &res);
	end_orphans(b);
	b->compile_failed = res.compile_failed;
	if (err)
		goto done;
	for (size_t i = 0; i < res.procs.n; i++)
		proc_list_set(&b->r.procs, res.procs.items[i].name, res.procs.items[i].command);
	for (size_t i = 0; i < vars->n; i++)
		config_set(&b->bp_vars, vars->items[i].key, vars->items[i].value);
	add_bp_vars(b);
	err = procfile_load(&procfile, b->app_dir);
	if (err == SW_ENOTFOUND)
		err = 0;
	else if (!err && !procfile.n)
		err = sw_error_set(SW_EINVALID, "Procfile declares no process types "
				   "(add one per line, e.g. 'web: ./server')");
	if (err)
		goto done;
	for (size_t i = 0; i < procfile.n; i++)
		proc_list_set(&b->r.procs, procfile.items[i].name, procfile.items[i].command);
	say(b->out, SAY_STEP, "Discovering process types");
	struct buf types = BUF_INIT;
	for (size_t i = 0; i < procfile.n; i++)
		buf_addf(&types, "%s%s", i ? ", " : "", procfile.items[i].name);
	if (procfile.n)
		say(b->out, SAY_DETAIL, "Procfile declares types -> %s", types.data);
	else
		say(b->out, SAY_DETAIL, "Procfile declares types -> (none)");
	buf_reset(&types);
	for (size_t i = 0; i < res.procs.n; i++)
		buf_addf(&types, "%s%s", i ? ", " : "", res.procs.items[i].name);
	if (res.procs.n)
		say(b->out, SAY_DETAIL, "Default types for buildpack -> %s", types.data);
	buf_release(&types);
	if (!b->r.procs.n)
		say(b->out, SAY_WARN, "No process types: nothing will run. Add a Procfile (web: COMMAND) "
				      "or use a buildpack that declares default_process_types.");
done:
	proc_list_release(&procfile);
	pipeline_result_release(&res);
	strvec_clear(&specs);
	strvec_clear(&env);
	return err;
}

static int pack_and_publish(struct build *b, struct build_timings *t)
{
	struct slug_stats st;
	char *tmp = NULL;
	int fd = -1, err;

	if ((err = cas_tmpfile(b->o->ctx->root, &fd, &tmp)))
		return err;
	struct slug_write_opts so = { .max_bytes_in = b->limits.max_unpacked,
				      .max_entries = b->limits.max_files };
	err = slug_write(fd, b->app_dir, &so, &st);
	if (err == SW_EINVALID && rejects_push(b->o))
		sw_error_prefix(err, "Push rejected: ");
	t->pack = lap(b);
	if (!err && st.bytes_out > b->limits.max_slug_size) {
		char size[32], max[32];
		units_format_size(st.bytes_out, size, sizeof(size));
		units_format_size(b->limits.max_slug_size, max, sizeof(max));
		say(b->out, SAY_STEP, "Compressing... done, %s", size);
		err = sw_error_set(SW_EINVALID, "Compiled slug size: %s is too large (max is %s).",
				   size, max);
	}
	if (err) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return err;
	}
	char size[32];
	units_format_size(st.bytes_out, size, sizeof(size));
	say(b->out, SAY_STEP, "Compressing... done, %s", size);
	/* the writer hashed the bytes as it wrote them: no second read */
	err = cas_publish_hashed(b->o->ctx->root, fd, tmp, st.sha256);
	if (!err) {
		memcpy(b->r.slug, st.sha256, sizeof(st.sha256));
		b->r.slug_size = st.bytes_out;
	}
	t->publish = lap(b);
	free(tmp);
	return err;
}

/* Reads the config and attachments the new release starts from: the newest release's. */
static int load_base(struct build *b, struct ledger *l)
{
	int latest, err = ledger_latest(l, &latest);
	if (err || !latest)
		return err;
	struct release prev = RELEASE_INIT;
	if (!(err = ledger_read(l, latest, LEDGER_READ_CONFIG, &prev))) {
		config_copy(&b->base, &prev.config);
		/* the add-ons stay attached (store/attach.h) */
		attach_release(&b->r.addons);
		attach_copy(&b->r.addons, &prev.addons);
	}
	release_release(&prev);
	return err;
}

/*
 * With S3 configured (store/s3.h), the slug goes there before its release
 * is recorded: a release always names a slug every host can fetch.  A slug
 * the bucket has already is not sent again (so checking again before a
 * release built in pre-receive is recorded costs one HEAD).
 */
static int upload_slug(struct build *b)
{
	struct s3 s3 = S3_INIT;
	int sent = 0, err = s3_open(&s3, b->o->ctx->root);
	if (err == SW_ENOTFOUND)
		return 0;
	if (!err)
		err = s3_slug_push(&s3, b->o->ctx->root, b->r.slug, &sent);
	if (!err && sent)
		say(b->out, SAY_STEP, "Stored the slug in S3");
	s3_release(&s3);
	return err;
}

static int record(struct build *b)
{
	struct activate_opts ao = { .ctx = b->o->ctx, .out = b->out, .report = &b->report };
	b->r.description = xasprintf("Deploy %.7s%s", b->o->rev, b->o->retry ? " (retry)" : "");
	b->r.user = xstrdup(b->o->user);
	memcpy(b->r.commit, b->o->rev, 40);
	b->r.commit[40] = '\0';
	config_copy(&b->r.config, &b->base);
	return activate(&ao, &b->r);
}

/*
 * What a BUILD_ONLY build leaves for BUILD_RELEASE_BUILT, in the app's
 * repository: "commit SHA", "slug HEX", "slug_size N" lines, then one
 * "proc NAME LEN" line per process type and one "var KEY LEN" line per
 * buildpack config var, each followed by LEN bytes of its command or value
 * and a newline.
 */
static char *built_path(const struct build_opts *o)
{
	return paths_built(o->ctx->root, o->ctx->app, o->rev);
}

static int save_built(struct build *b, const struct build_timings *tm)
{
	struct buf t = BUF_INIT;
	buf_addf(&t, "timings %.6f %.6f %.6f %.6f\n", tm->checkout, tm->compile, tm->pack,
		 tm->publish);
	buf_addf(&t, "commit %s\nslug %s\nslug_size %llu\nbuild %d\n", b->o->rev, b->r.slug,
		 (unsigned long long)b->r.slug_size, b->rec.id);
	for (size_t i = 0; i < b->r.procs.n; i++) {
		const struct proc_type *p = &b->r.procs.items[i];
		buf_addf(&t, "proc %s %zu\n%s\n", p->name, strlen(p->command), p->command);
	}
	for (size_t i = 0; i < b->bp_vars.n; i++) {
		const struct config_var *v = &b->bp_vars.items[i];
		buf_addf(&t, "var %s %zu\n%s\n", v->key, strlen(v->value), v->value);
	}
	char *path = built_path(b->o);
	/* no fsync: lost in a crash, post-receive builds the commit again */
	int err = fs_write_replace(path, t.data, t.len, 0600);
	free(path);
	buf_release(&t);
	return err;
}

static int parse_built(struct build *b, char *text, size_t len, struct build_timings *tm)
{
	char *p = text, *end = text + len;
	unsigned long long size;
	char kind[8], name[256];
	size_t n;
	int got = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = '\0';
		if (!strncmp(p, "commit ", 7)) {
			got |= strcmp(p + 7, b->o->rev) ? 0 : 1;
		} else if (!strncmp(p, "slug ", 5) && cas_valid_hex(p + 5)) {
			snprintf(b->r.slug, sizeof(b->r.slug), "%s", p + 5);
			got |= 2;
		} else if (sscanf(p, "slug_size %llu", &size) == 1) {
			b->r.slug_size = size;
		} else if (sscanf(p, "build %d", &b->rec.id) == 1) {
			;
		} else if (sscanf(p, "timings %lf %lf %lf %lf", &tm->checkout, &tm->compile, &tm->pack,
				  &tm->publish) == 4) {
			;
		} else if (sscanf(p, "%7s %255s %zu", kind, name, &n) == 3 &&
			   (!strcmp(kind, "proc") || !strcmp(kind, "var")) &&
			   n < (size_t)(end - nl - 1) && nl[1 + n] == '\n') {
			nl[1 + n] = '\0';
			if (*kind == 'p')
				proc_list_set(&b->r.procs, name, nl + 1);
			else
				config_set(&b->bp_vars, name, nl + 1);
			nl += 1 + n;
		} else {
			break;
		}
		p = nl + 1;
	}
	if (p != end || got != 3)
		return sw_error_set(SW_ERROR, "the build of %.7s left an unreadable record", b->o->rev);
	return 0;
}

/* Reads and removes what BUILD_ONLY built of o->rev (and how long it took); SW_ENOTFOUND if nothing. */
static int take_built(struct build *b, struct build_timings *tm)
{
	char *path = built_path(b->o), *text = NULL;
	size_t len = 0;
	int err = fs_read_file(path, 64 << 20, &text, &len);
	if (!err) {
		err = parse_built(b, text, len, tm);
		unlink(path);
	}
	free(text);
	free(path);
	return err;
}

static int apply_slugignore(struct build *b)
{
	uint64_t removed;
	int found, err = slugignore_apply(b->app_dir, &found, &removed);
	if (!err && found)
		say(b->out, SAY_STEP, "Deleting %llu files matching .slugignore patterns.",
		    (unsigned long long)removed);
	return err;
}

static int run_build(struct build *b, struct ledger *l, struct build_timings *t)
{
	int err;

	if ((err = load_base(b, l)))
		return err;
	if ((err = checkout_write(b->plan, b->app_dir, 0, NULL)))
		return err;
	t->checkout = lap(b);
	if ((err = apply_slugignore(b)))
		return err;
	if ((err = compile(b)))
		return err;
	t->compile = lap(b);
	if ((err = pack_and_publish(b, t)))
		return err;
	/* in pre-receive too (BUILD_ONLY): a slug S3 refuses rejects the push */
	if ((err = upload_slug(b)))
		return err;
	if (b->o->stage == BUILD_ONLY)
		return save_built(b, t);
	say(b->out, SAY_STEP, "Launching...");
	if ((err = record(b)))
		return err;
	t->record = lap(b);
	return 0;
}

int build_deploy(const struct build_opts *o, int *version, struct build_timings *timings)
{
	struct build_timings local;
	struct build b = { .o = o, .r = RELEASE_INIT, .base = CONFIG_INIT, .bp_vars = CONFIG_INIT,
			   .out = o->out, .rec = BUILD_RECORD_INIT,
			   .limits = BUILD_LIMITS_INIT, .sb = SANDBOX_INIT, .cg = LIMITS_INIT };
	struct app_ctx *ctx = o->ctx;
	struct ledger *l = NULL;
	char *builds = NULL, *repo = NULL;
	int nothing_built = 0, err;

	if (!timings)
		timings = &local;
	memset(timings, 0, sizeof(*timings));
	clock_gettime(CLOCK_MONOTONIC, &b.t0);
	if (o->stage != BUILD_RELEASE_BUILT)
		say(b.out, SAY_STEP, "Building %s from %s (%.7s)", o->ctx->app, o->branch, o->rev);
	/* a second build of the same push (post-receive) holds it already */
	ctx->on_wait = on_lock_wait;
	ctx->on_wait_data = &b;
	err = app_ctx_lock(ctx);
	ctx->on_wait = NULL;
	ctx->on_wait_data = NULL;
	if (err)
		goto done;
	l = ctx->ledger;
	repo = app_repo_path(ctx->root, ctx->app);
	b.repo = repo;
	if ((err = build_limits_load(o->ctx->root, o->ctx->app, &b.limits)))
		goto done;
	if (o->stage == BUILD_RELEASE_BUILT) {
		if ((err = take_built(&b, timings)) == SW_ENOTFOUND) {
			nothing_built = 1;
			goto done;
		}
		keep_output(&b, NULL);
		lap(&b); /* the record stage starts here */
		if (!err) {
			say(b.out, SAY_STEP, "Launching...");
			err = load_base(&b, l);
			add_bp_vars(&b);
		}
		/* built in pre-receive, sent then: checked again (one HEAD), as it is recorded now */
		if (!err && !(err = upload_slug(&b)) && !(err = record(&b)))
			timings->record = lap(&b);
		goto recorded;
	}
	keep_output(&b, ctx->settings);
	lap(&b); /* the checkout stage starts with its plan */
	if ((err = checkout_plan(repo, o->rev, o->ctx->root, o->remote_user, &b.plan)))
		goto done;
	/* we hold the app lock: anything in the app's build areas is a killed build's leftover */
	if ((err = buildarea_clear(o->ctx->root, o->ctx->app, b.limits.build_dir, b.limits.tmpfs, NULL)))
		goto done;
	builds = buildarea_path(o->ctx->root, o->ctx->app, b.limits.build_dir, b.limits.tmpfs,
				checkout_plan_bytes(b.plan));
	if ((err = fs_mkdir_p(builds, 0700)) || (err = fs_mkdtemp(builds, "build-", &b.dir)))
		goto done;
	b.app_dir = xasprintf("%s/app", b.dir);
	b.env_dir = xasprintf("%s/env", b.dir);
	b.cache_dir = app_cache_path(o->ctx->root, o->ctx->app);
	b.bp_dir = xasprintf("%s/buildpacks", b.dir);
	err = run_build(&b, l, timings);
	if (!err && o->stage == BUILD_ONLY)
		goto done;
recorded:
	if (!err && b.r.status == RELEASE_FAILED) {
		say(b.out, SAY_WARN, "Release v%d (%s) failed; the current release is unchanged.",
		    b.r.version, b.r.description);
		say(b.out, SAY_WARN, "See its output with: slipway releases:output v%d -a %s", b.r.version,
		    o->ctx->app);
		err = SW_ERROR;
		b.release_failed = 1;
	} else if (!err) {
		say(b.out, SAY_STEP, "Released v%d: %s%s", b.r.version, b.r.description,
		    !b.report.not_running ? ""
		    : o->remote_user      ? " (" ACTIVATE_NOT_RUNNING_REMOTE ")"
					  : " (" ACTIVATE_NOT_RUNNING ")");
		if (b.limits.timings)
			say(b.out, SAY_STEP, "Timings: checkout=%.3fs compile=%.3fs pack=%.3fs publish=%.3fs record=%.3fs",
			    timings->checkout, timings->compile, timings->pack, timings->publish,
			    timings->record);
		if (version)
			*version = b.r.version;
	}
done:
	if (nothing_built) {
		; /* the caller builds it */
	} else if (err && !b.release_failed) {
		say(b.out, SAY_WARN, "%s", sw_error_last());
		if (o->retry)
			say(b.out, SAY_WARN, "Retry failed, no release was created.");
		else if (o->accepted)
			say(b.out, SAY_WARN, "The push was accepted, but no release was created.");
		else if (!b.compile_failed) /* its message said "Push rejected" */
			say(b.out, SAY_WARN, "Push rejected, no release was created.");
	}
	finish_output(&b, o->stage == BUILD_RELEASE_BUILT || (b.r.slug[0] && !b.compile_failed));
	if (b.dir)
		fs_rm_rf(b.dir);
	if (builds)
		rmdir(builds); /* still under the lock; fails harmlessly if not empty */
	checkout_plan_free(b.plan);
	build_limits_release(&b.limits);
	sandbox_release(&b.sb);
	limits_close(&b.cg); /* what the buildpacks left running ends here */
	release_release(&b.r);
	config_release(&b.base);
	config_release(&b.bp_vars);
	build_record_release(&b.rec);
	free(b.dir);
	free(b.app_dir);
	free(b.env_dir);
	free(b.cache_dir);
	free(b.bp_dir);
	free(builds);
	free(repo);
	return err;
}
