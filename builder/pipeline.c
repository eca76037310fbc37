#define _GNU_SOURCE
#include "builder/pipeline.h"

#include "builder/bpsource.h"
#include "builder/buildpack.h"
#include "builder/buildpacks.h"
#include "builder/shipdetect.h"
#include "store/appctx.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/say.h"
#include "util/units.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Most bytes of environment an export file may leave behind. */
#define EXPORT_ENV_MAX (4 * 1024 * 1024)
#define EXPORT_TIMEOUT 60
#define DOT_BUILDPACKS_MAX (64 * 1024)

/* One buildpack of this build. */
struct bp {
	const char *spec;
	char *dir;       /* private copy */
	char *name;      /* from bin/detect */
};

struct run {
	const struct pipeline_opts *o;
	struct bp *bps;
	size_t n;        /* buildpacks that build */
	size_t cap;      /* slots in bps */
	struct strvec env;
	uint64_t bytes, entries; /* in the copies so far */
};

/*
 * Sets the message of a failed build, as Heroku words it: "Push rejected,
 * <cause>" when the failure rejects the push, else "<Cause>".
 */
static int failed(const struct pipeline_opts *o, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int failed(const struct pipeline_opts *o, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cause = NULL;
	if (vasprintf(&cause, fmt, ap) < 0)
		cause = NULL;
	va_end(ap);
	if (!cause)
		return sw_error_set(code, "the build failed");
	if (o->accepted && *cause >= 'a' && *cause <= 'z')
		*cause = (char)(*cause - 'a' + 'A');
	sw_error_set(code, "%s%s", o->accepted ? "" : "Push rejected, ", cause);
	free(cause);
	return code;
}

void pipeline_result_release(struct pipeline_result *r)
{
	proc_list_release(&r->procs);
	config_release(&r->vars);
}

/* A readable directory name for a spec: its last path component, no .git or #ref. */
static char *short_name(const char *spec)
{
	size_t end = strcspn(spec, "#");
	while (end > 1 && spec[end - 1] == '/')
		end--;
	if (end > 4 && !strncmp(spec + end - 4, ".git", 4))
		end -= 4;
	size_t start = end;
	while (start > 0 && spec[start - 1] != '/')
		start--;
	if (start == end || spec[start] == '.')
		return xstrdup("buildpack");
	return xstrndup(spec + start, end - start);
}

/*
 * Adds what the tree at path holds to run's count, stopping as soon as it
 * passes a bound (1), so naming a huge directory costs no more than that.
 */
static int count_tree(struct run *run, const char *path)
{
	const struct pipeline_opts *o = run->o;
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0; /* the copy says why */
	run->entries++;
	if (S_ISREG(st.st_mode))
		run->bytes += (uint64_t)st.st_size;
	if ((o->max_bytes && run->bytes > o->max_bytes) ||
	    (o->max_entries && run->entries > o->max_entries))
		return 1;
	DIR *d = S_ISDIR(st.st_mode) ? opendir(path) : NULL;
	struct dirent *de;
	int over = 0;
	while (!over && d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *sub = xasprintf("%s/%s", path, de->d_name);
		over = count_tree(run, sub);
		free(sub);
	}
	if (d)
		closedir(d);
	return over;
}

/* Refuses a buildpack whose copy would take the build past its bounds. */
static int check_size(struct run *run, const char *spec, const char *src)
{
	const struct pipeline_opts *o = run->o;
	char size[32];
	if ((!o->max_bytes && !o->max_entries) || !count_tree(run, src))
		return 0;
	if (o->max_bytes && run->bytes > o->max_bytes) {
		units_format_size(o->max_bytes, size, sizeof(size));
		return sw_error_set(SW_EINVALID, "the buildpacks hold more than %s of files with "
				    "'%s' (slipway.maxSlugUnpackedSize)", size, spec);
	}
	return sw_error_set(SW_EINVALID, "the buildpacks hold more than %llu files and directories "
			    "with '%s' (slipway.maxSlugFiles)", (unsigned long long)o->max_entries,
			    spec);
}

/* Fetches spec and copies it to <work_dir>/<i>/<short name>. */
static int stage(struct run *run, size_t i, const char *spec)
{
	const struct pipeline_opts *o = run->o;
	char *src = NULL, *parent = xasprintf("%s/%zu", o->work_dir, i + 1);
	char *base = short_name(spec);
	int err = bpsource_resolve(o->root, spec, o->shipped_dir, o->on_line, o->ctx, &src);
	if (!err)
		err = check_size(run, spec, src);
	if (!err && !(err = fs_mkdir_p(parent, 0700))) {
		run->bps[i].dir = xasprintf("%s/%s", parent, base);
		err = fs_copy_tree(src, run->bps[i].dir);
	}
	run->bps[i].spec = spec;
	free(src);
	free(base);
	free(parent);
	return err;
}

/* A shipped buildpack whose bin/detect is as it ships is answered without a sandbox. */
static int run_detect(struct run *run, struct bp *bp)
{
	const struct pipeline_opts *o = run->o;
	enum bpsource_kind kind;
	if (bpsource_kind(bp->spec, &kind) == 0 && kind == BPSOURCE_SHIPPED) {
		int err = shipdetect_answer(bp->dir, bp->spec, o->app_dir, &bp->name);
		if (err != SHIPDETECT_RUN)
			return err;
	}
	return buildpack_detect(o->sandbox, bp->dir, bp->spec, o->app_dir, o->env, o->on_line,
				o->ctx, &bp->name);
}

/* What the shipped buildpacks look for, and what else the pusher can do. */
static void say_detect_help(const struct pipeline_opts *o)
{
	run_line_fn f = o->on_line;
	say_to(f, o->ctx, SAY_STEP, "None of the shipped buildpacks applies; they look for:");
	for (size_t i = 0; o->shipped && o->shipped[i]; i++) {
		const struct buildpacks_shipped *s = buildpacks_shipped_find(o->shipped[i]);
		if (s && s->heroku)
			say_to(f, o->ctx, SAY_DETAIL, "%s (%s): %s", s->heroku, s->name, s->looks_for);
		else if (s)
			say_to(f, o->ctx, SAY_DETAIL, "%s: %s", s->name, s->looks_for);
	}
	say_to(f, o->ctx, SAY_DETAIL, "Add a Procfile (web: COMMAND) to run the app as it is, or name its");
	say_to(f, o->ctx, SAY_DETAIL, "buildpacks in a .buildpacks file or with slipway buildpacks:set.");
}

/* Automatic detection: the first shipped buildpack that applies. */
static int detect_shipped(struct run *run)
{
	const struct pipeline_opts *o = run->o;
	size_t n = 0;
	while (o->shipped && o->shipped[n])
		n++;
	run->bps = xcalloc(n ? n : 1, sizeof(*run->bps));
	run->cap = n;
	for (size_t i = 0; i < n; i++) {
		struct bp *bp = &run->bps[i];
		int err = stage(run, i, o->shipped[i]);
		if (err) /* a missing shipped buildpack is an installation problem */
			return err;
		err = run_detect(run, bp);
		if (err == SW_ENOTFOUND)
			continue;
		if (err)
			return err;
		if (i) { /* keep the one that applies in slot 0 */
			struct bp tmp = run->bps[0];
			run->bps[0] = *bp;
			*bp = tmp;
		}
		run->n = 1;
		say_to(o->on_line, o->ctx, SAY_STEP, "%s app detected", run->bps[0].name);
		return 0;
	}
	say_detect_help(o);
	return sw_error_set(SW_ENOTFOUND, "No default language could be detected for this app.");
}

/* An explicit list: fetch and copy them all first, detect each for its name. */
static int detect_list(struct run *run)
{
	const struct pipeline_opts *o = run->o;
	const struct strvec *specs = o->specs;
	int err = 0;

	run->bps = xcalloc(specs->n, sizeof(*run->bps));
	run->n = run->cap = specs->n;
	say_to(o->on_line, o->ctx, SAY_STEP, "Using buildpack%s:", specs->n > 1 ? "s" : "");
	for (size_t i = 0; i < specs->n; i++)
		say_to(o->on_line, o->ctx, SAY_DETAIL, "%zu. %s", i + 1, specs->v[i]);
	for (size_t i = 0; i < specs->n && !err; i++)
		err = stage(run, i, specs->v[i]);
	return err;
}

static int is_skipped_var(const char *kv)
{
	static const char *const skip[] = { "PWD=", "OLDPWD=", "SHLVL=", "_=", NULL };
	for (size_t i = 0; skip[i]; i++)
		if (!strncmp(kv, skip[i], strlen(skip[i])))
			return 1;
	return !strchr(kv, '=') || kv[0] == '=';
}

int pipeline_source_export(const struct sandbox *sb, const char *export_path,
			   const char *const *env, run_line_fn on_line, void *ctx,
			   struct strvec *out)
{
	const char *argv[] = { "/bin/sh", "-c", "set -a; . \"$1\"; exec /usr/bin/env -0",
			       "sh", export_path, NULL };
	struct run_opts ro = RUN_OPTS_INIT;
	struct buf cap = BUF_INIT;
	int status, err;

	ro.argv = argv;
	ro.env = env;
	ro.timeout_sec = EXPORT_TIMEOUT;
	ro.on_line = on_line;
	ro.ctx = ctx;
	ro.capture = &cap;
	ro.capture_max = EXPORT_ENV_MAX;
	if ((err = sandbox_run(sb, &ro, &status)) < 0) {
		sw_error_prefix(err, "cannot source '%s': ", export_path);
		goto done;
	}
	if (status) {
		err = sw_error_set(SW_ERROR, "sourcing '%s' failed (exit status %d): fix the export file",
				   export_path, status);
		goto done;
	}
	for (size_t at = 0; at < cap.len;) {
		const char *kv = cap.data + at;
		size_t n = strnlen(kv, cap.len - at);
		if (at + n < cap.len && !is_skipped_var(kv))
			strvec_push(out, kv);
		at += n + 1;
	}
done:
	buf_release(&cap);
	return err;
}

static int compile_one(struct run *run, struct bp *bp, struct pipeline_result *r)
{
	const struct pipeline_opts *o = run->o;
	int err = buildpack_compile(o->sandbox, bp->dir, bp->spec, o->app_dir, o->cache_dir,
				    o->env_dir, (const char *const *)run->env.v, o->timeout_sec,
				    o->on_line, o->ctx);
	r->compile_failed = err == SW_ERROR || err == SW_ETIMEOUT;
	if (err == SW_ETIMEOUT)
		return failed(o, SW_ETIMEOUT, "compile of %s app timed out after %d second%s.",
			      bp->name, o->timeout_sec, o->timeout_sec == 1 ? "" : "s");
	if (err == SW_ERROR)
		return failed(o, SW_ERROR, "failed to compile %s app.", bp->name);
	if (err == SW_ENOTFOUND)
		return sw_error_set(SW_ERROR, "buildpack '%s' has no executable bin/compile", bp->spec);
	if (err)
		return err;

	char *export = xasprintf("%s/export", bp->dir);
	struct stat st;
	if (lstat(export, &st) == 0 && S_ISREG(st.st_mode)) {
		struct strvec next = STRVEC_INIT;
		err = pipeline_source_export(o->sandbox, export, (const char *const *)run->env.v,
					     o->on_line, o->ctx, &next);
		if (!err) {
			strvec_clear(&run->env);
			run->env = next;
		} else {
			strvec_clear(&next);
		}
	}
	free(export);
	return err;
}

static int release_all(struct run *run, struct pipeline_result *r)
{
	const struct pipeline_opts *o = run->o;
	int err = 0;
	for (size_t i = 0; i < run->n && !err; i++) {
		struct proc_list procs = PROC_LIST_INIT;
		err = buildpack_release(o->sandbox, run->bps[i].dir, run->bps[i].spec, o->app_dir,
					(const char *const *)run->env.v, o->on_line, o->ctx, &procs,
					&r->vars);
		if (err) {
			sw_error_prefix(err, "bin/release of %s: ", run->bps[i].name);
		} else if (i + 1 == run->n) {
			proc_list_release(&r->procs);
			r->procs = procs;
			procs = (struct proc_list)PROC_LIST_INIT;
		}
		proc_list_release(&procs);
	}
	return err;
}

int pipeline_run(const struct pipeline_opts *o, struct pipeline_result *r)
{
	struct run run = { o, NULL, 0, 0, STRVEC_INIT, 0, 0 };
	int err;

	for (size_t i = 0; o->env && o->env[i]; i++)
		strvec_push(&run.env, o->env[i]);
	if ((err = fs_mkdir_p(o->work_dir, 0700)))
		goto done;
	if (o->specs && o->specs->n)
		err = detect_list(&run);
	else
		err = detect_shipped(&run);
	if (err)
		goto done;
	for (size_t i = 0; i < run.n && !err; i++) {
		struct bp *bp = &run.bps[i];
		if (!bp->name) {
			err = run_detect(&run, bp);
			if (err == SW_ENOTFOUND) {
				say_to(o->on_line, o->ctx, SAY_STEP, "App not compatible with buildpack: %s",
				       bp->spec);
				err = failed(o, SW_ENOTFOUND, "the buildpack '%s' does not apply to "
					     "this app (its bin/detect said no)", bp->spec);
				break;
			}
			if (err)
				break;
			say_to(o->on_line, o->ctx, SAY_STEP, "%s app detected", bp->name);
		}
		err = compile_one(&run, bp, r);
	}
	if (!err)
		err = release_all(&run, r);
done:
	for (size_t i = 0; i < run.cap; i++) {
		free(run.bps[i].dir);
		free(run.bps[i].name);
	}
	free(run.bps);
	strvec_clear(&run.env);
	return err;
}

static int read_dot_buildpacks(const char *app_dir, struct strvec *out, int *found)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	*found = 0;
	err = fs_read_tree_file(app_dir, ".buildpacks", DOT_BUILDPACKS_MAX, &text, &len);
	if (err == SW_ENOTFOUND)
		err = 0;
	if (err || !text)
		goto done;
	if ((err = buildpacks_parse(text, len, out))) {
		sw_error_prefix(err, "'.buildpacks' ");
		goto done;
	}
	*found = out->n > 0;
done:
	free(text);
	return err;
}

/* A remote user's tree names only what they may use (bpsource_allowed). */
static int check_allowed(const struct strvec *specs, const char *user)
{
	for (size_t i = 0; i < specs->n; i++) {
		int err = bpsource_allowed(specs->v[i], user);
		if (err)
			return sw_error_prefix(err, "'.buildpacks': ");
	}
	return 0;
}

int pipeline_specs(const struct app_ctx *app, const char *app_dir, const char *user,
		   struct strvec *out, const char **from)
{
	int found, err = buildpacks_list(app->root, app->app, out);
	*from = NULL;
	if (err)
		return err;
	if (out->n) {
		*from = "app";
		return 0;
	}
	if ((err = read_dot_buildpacks(app_dir, out, &found)) || (err = check_allowed(out, user)))
		return err;
	if (found)
		*from = ".buildpacks";
	return 0;
}
