#include "release/release_phase.h"

#include "exec/sandbox.h"
#include "exec/unpack.h"

#include "util/run.h"
#include "util/error.h"
#include "util/fsutil.h"
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

void release_phase_run(const struct app_ctx *ctx, struct sandbox *sb, const struct release *r,
		       int timeout_sec, FILE *out, int *ok, char **output)
{
	struct sink s = { out, BUF_INIT, 0 };
	struct strvec env = STRVEC_INIT;
	char *run = NULL, *dir = NULL;
	int status = -1, err;

	*ok = 0;
	fprintf(out, "-----> Running release command...\n");
	if (sb->off)
		fprintf(out, " !     Warning: slipway.sandbox is none: the release command runs "
			     "unsandboxed, as the server user\n");
	fflush(out);
	if ((err = unpack_for_run(ctx->root, ctx->app, r->slug, &run))) {
		on_line(sw_error_last(), strlen(sw_error_last()), &s);
	} else {
		dir = xasprintf("%s/app", run);
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
		err = sandbox_run(sb, &o, &status);
		if (err) {
			const char *msg = sw_error_last();
			on_line(msg, strlen(msg), &s);
		}
	}
	if (s.truncated)
		buf_adds(&s.saved, "(output truncated)\n");
	*ok = !err && status == 0;
	if (*ok) {
		fprintf(out, "-----> Waiting for release.... done.\n");
	} else {
		if (!err)
			buf_addf(&s.saved, "release command exited with status %d\n", status);
		fprintf(out, " !     Release command failed\n");
	}
	fflush(out);
	*output = buf_detach(&s.saved);
	if (run)
		unpack_remove(run); /* what the run changed is gone with it */
	sandbox_release(sb);
	strvec_clear(&env);
	free(run);
	free(dir);
}
