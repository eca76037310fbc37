#include "release/release_phase.h"

#include "exec/sandbox.h"
#include "exec/limits.h"
#include "exec/overlay.h"

#include "util/run.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/say.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Saved output is capped; the pusher still sees all of it. */
#define OUTPUT_MAX (1024 * 1024)

int release_phase_wanted(const struct release *r)
{
	return r->slug[0] && proc_list_get(&r->procs, "release") != NULL;
}

struct sink {
	FILE *out;
	struct buf saved;
	int truncated;
};

static void on_line(const char *line, size_t len, void *ctx)
{
	struct sink *s = ctx;
	fwrite(line, 1, len, s->out);
	fputc('\n', s->out);
	fflush(s->out);
	if (s->saved.len + len + 1 > OUTPUT_MAX) {
		s->truncated = 1;
		return;
	}
	buf_add(&s->saved, line, len);
	buf_add(&s->saved, "\n", 1);
}

/* The release's config vars plus what Heroku sets; nothing of the server's. */
static void make_env(const struct sandbox *sb, const struct release *r, const char *dir,
		     struct strvec *env)
{
	sandbox_env(sb, dir, env);
	strvec_push(env, "DYNO=release.1");
	strvec_pushf(env, "SOURCE_VERSION=%s", r->commit);
	for (size_t i = 0; i < r->config.n; i++)
		strvec_pushf(env, "%s=%s", r->config.items[i].key, r->config.items[i].value);
}

/* The command in the sandbox; where /app cannot be an overlay, again in a copy of the slug. */
/*
 * The command runs with the app's limits as a one-off's (its type:
 * "release"); at the hard limit the kernel's OOM killer ends it.
 */
static int run_command(const struct app_ctx *ctx, struct sandbox *sb,
		       const struct release *r, struct overlay *ov, struct run_opts *o,
		       int *status)
{
	struct limits lim = LIMITS_INIT;
	struct limits_spec spec;
	int err = limits_spec_read(ctx->root, ctx->app, "release", &spec);
	spec.kernel_kills = 1;
	if (err || (err = limits_open(&lim, ctx->root, ctx->app, "release", &spec)) ||
	    (err = overlay_run_opts(ov, o)))
		goto done;
	sb->limits = &lim;
	err = sandbox_run(sb, o, status);
	if (!overlay_wanted(ov) || overlay_started(ov) == 0)
		goto done;
	o->before_exec = NULL;
	if (!(err = overlay_copy(ov, ctx->root, r->slug)))
		err = sandbox_run(sb, o, status);
done:
	sb->limits = NULL;
	limits_close(&lim);
	return err;
}

void release_phase_run(const struct app_ctx *ctx, struct sandbox *sb, const struct release *r,
		       int timeout_sec, FILE *out, int *ok, char **output)
{
	struct sink s = { out, BUF_INIT, 0 };
	struct strvec env = STRVEC_INIT;
	struct overlay ov = OVERLAY_INIT;
	const char *dir = NULL;
	int status = -1, err;

	*ok = 0;
	say(out, SAY_STEP, "Running release command...");
	if (sb->off)
		say(out, SAY_WARN, "Warning: slipway.sandbox is none: the release command runs "
				   "unsandboxed, as the server user");
	fflush(out);
	if ((err = overlay_open(&ov, ctx->root, ctx->app, NULL, r->slug, sb)) ||
	    (err = sandbox_addons(sb, ctx->root, &r->addons))) {
		on_line(sw_error_last(), strlen(sw_error_last()), &s);
	} else {
		dir = ov.dir;
		sandbox_mount(sb, dir, "/app", 1);
		const char *argv[] = { "/bin/sh", "-c", proc_list_get(&r->procs, "release"), NULL };
		struct run_opts o = RUN_OPTS_INIT;
		make_env(sb, r, dir, &env);
		o.argv = argv;
		o.env = (const char *const *)env.v;
		o.dir = dir;
		o.timeout_sec = timeout_sec;
		o.on_line = on_line;
		o.ctx = &s;
		err = run_command(ctx, sb, r, &ov, &o, &status);
		if (err) {
			const char *msg = sw_error_last();
			on_line(msg, strlen(msg), &s);
		}
	}
	if (s.truncated)
		buf_adds(&s.saved, "(output truncated)\n");
	*ok = !err && status == 0;
	if (*ok) {
		say(out, SAY_STEP, "Waiting for release.... done.");
	} else {
		if (!err)
			buf_addf(&s.saved, "release command exited with status %d\n", status);
		say(out, SAY_WARN, "Release command failed");
	}
	fflush(out);
	*output = buf_detach(&s.saved);
	overlay_close(&ov); /* what the run changed is gone with it */
	sandbox_release(sb);
	strvec_clear(&env);
}
