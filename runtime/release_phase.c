#include "runtime/release_phase.h"

#include "util/run.h"
#include "store/slug.h"
#include "store/cas.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Saved output is capped; the pusher still sees all of it. */
#define OUTPUT_MAX (1024 * 1024)

int release_phase_timeout(void)
{
	const char *s = getenv("SLIPWAY_RELEASE_TIMEOUT");
	int v = s ? atoi(s) : 0;
	return v > 0 ? v : 3600;
}

int release_phase_wanted(const struct release *r)
{
	return r->slug[0] && proc_list_get(&r->procs, "release") != NULL;
}

/* <root>/unpacked/<hex>, extracted now unless an earlier release did it. */
static int unpacked_tree(const char *root, const char *hex, char **out)
{
	char *parent = xasprintf("%s/unpacked", root);
	char *dir = xasprintf("%s/%s", parent, hex);
	char *tmp = NULL, *slug = NULL;
	int err = 0;

	*out = NULL;
	if (fs_is_dir(dir))
		goto done;
	if ((err = fs_mkdir_p(parent, 0755)) || (err = cas_check(root, hex)))
		goto done;
	if ((err = fs_mkdtemp(parent, ".tmp-", &tmp)))
		goto done;
	slug = cas_path(root, hex);
	char *inner = xasprintf("%s/app", tmp);
	if (!(err = slug_extract(slug, inner)) && rename(inner, dir) < 0 && !fs_is_dir(dir))
		err = sw_error_errno(SW_ERROR, "cannot unpack slug %.12s", hex);
	free(inner);
done:
	if (tmp)
		fs_rm_rf(tmp);
	if (!err)
		*out = dir;
	else
		free(dir);
	free(tmp);
	free(slug);
	free(parent);
	return err;
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

static void make_env(const struct release *r, const char *dir, struct strvec *env)
{
	const char *path = getenv("PATH");
	strvec_pushf(env, "PATH=%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	strvec_pushf(env, "HOME=%s", dir);
	strvec_push(env, "DYNO=release.1");
	strvec_pushf(env, "SOURCE_VERSION=%s", r->commit);
	for (size_t i = 0; i < r->config.n; i++)
		strvec_pushf(env, "%s=%s", r->config.items[i].key, r->config.items[i].value);
}

int release_phase_run(const char *root, struct ledger *l, const struct release *r,
		      FILE *out, int *ok)
{
	struct sink s = { out, BUF_INIT, 0 };
	struct strvec env = STRVEC_INIT;
	char *dir = NULL;
	int status = -1, err;

	*ok = 0;
	fprintf(out, "-----> Running release command...\n");
	fflush(out);
	if ((err = unpacked_tree(root, r->slug, &dir))) {
		on_line(sw_error_last(), strlen(sw_error_last()), &s);
	} else {
		const char *argv[] = { "/bin/sh", "-c", proc_list_get(&r->procs, "release"), NULL };
		struct run_opts o = RUN_OPTS_INIT;
		make_env(r, dir, &env);
		o.argv = argv;
		o.env = (const char *const *)env.v;
		o.dir = dir;
		o.timeout_sec = release_phase_timeout();
		o.on_line = on_line;
		o.ctx = &s;
		err = run_child(&o, &status);
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
	err = ledger_finish(l, r->version, *ok ? RELEASE_SUCCEEDED : RELEASE_FAILED,
			    s.saved.data);
	strvec_clear(&env);
	buf_release(&s.saved);
	free(dir);
	return err;
}
