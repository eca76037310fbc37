#include "store/fsck.h"

#include "store/app.h"
#include "store/cas.h"
#include "store/s3.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "store/gitlocks.h"
#include "store/ledger.h"
#include "util/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct slugs_ctx {
	struct strvec *slugs;   /* slug hex of the selected releases */
	struct strvec *where;   /* "vN" per entry, for messages (may be NULL) */
	int min_version;        /* only releases >= this */
	int current;            /* ...plus this one */
};

static int add_slug(const struct release *r, void *ctx)
{
	struct slugs_ctx *c = ctx;
	if (!r->slug[0] || (r->version < c->min_version && r->version != c->current))
		return 0;
	strvec_push(c->slugs, r->slug);
	if (c->where)
		strvec_pushf(c->where, "v%d", r->version);
	return 0;
}

static int open_ledger(const char *root, const char *app, struct ledger **l)
{
	char *repo = app_repo_path(root, app);
	int err = ledger_open(l, repo);
	free(repo);
	return err;
}

static int check_app(const char *root, const char *app, struct strvec *slugs,
		     struct strvec *problems)
{
	struct ledger *l = NULL;
	struct strvec mine = STRVEC_INIT, where = STRVEC_INIT, found = STRVEC_INIT;
	int err;

	if ((err = open_ledger(root, app, &l)))
		return err;
	if ((err = ledger_check(l, &found)))
		goto done;
	for (size_t i = 0; i < found.n; i++)
		strvec_pushf(problems, "%s: %s", app, found.v[i]);
	char *repo = app_repo_path(root, app);
	strvec_clear(&found);
	err = gitlocks_find_stale(repo, &found);
	free(repo);
	for (size_t i = 0; i < found.n && !err; i++)
		strvec_pushf(problems,
			     "%s: stale git lock %s, left behind by an interrupted git process (the next push removes it)",
			     app, found.v[i]);
	if (err)
		goto done;
	struct slugs_ctx c = { &mine, &where, 0, 0 };
	if ((err = ledger_walk(l, 0, 0, add_slug, &c)) == SW_ENOTFOUND)
		err = 0;
	for (size_t i = 0; i < mine.n && !err; i++) {
		if (cas_lookup(root, mine.v[i], NULL) == SW_ENOTFOUND)
			strvec_pushf(problems, "%s: %s uses slug %s, which is missing from the store",
				     app, where.v[i], mine.v[i]);
		strvec_push(slugs, mine.v[i]);
	}
done:
	strvec_clear(&found);
	strvec_clear(&mine);
	strvec_clear(&where);
	ledger_free(l);
	return err;
}

static int verify_one(const char *hex, uint64_t size, void *ctx)
{
	(void)size;
	if (cas_verify(((void **)ctx)[0], hex) == SW_EINVALID)
		strvec_pushf(((void **)ctx)[1], "slug %s is corrupt: its bytes do not match its name",
			     hex);
	return 0;
}

int fsck_run(const char *root, const char *app, struct strvec *problems)
{
	struct strvec apps = STRVEC_INIT, slugs = STRVEC_INIT;
	int err = 0;

	if (app)
		strvec_push(&apps, app);
	else if ((err = app_list(root, &apps)))
		return err;
	for (size_t i = 0; i < apps.n && !err; i++)
		err = check_app(root, apps.v[i], &slugs, problems);
	if (!err && app) {
		strvec_sort(&slugs);
		for (size_t i = 0; i < slugs.n; i++)
			if ((i == 0 || strcmp(slugs.v[i], slugs.v[i - 1])) &&
			    cas_verify(root, slugs.v[i]) == SW_EINVALID)
				strvec_pushf(problems, "slug %s is corrupt: its bytes do not match its name",
					     slugs.v[i]);
	} else if (!err) {
		void *ctx[2] = { (void *)root, problems };
		err = cas_foreach(root, verify_one, ctx);
	}
	strvec_clear(&apps);
	strvec_clear(&slugs);
	return err;
}

static int collect_kept(const char *root, const char *app, int keep, struct strvec *slugs)
{
	struct ledger *l = NULL;
	int latest, current, err;

	if ((err = open_ledger(root, app, &l)))
		return err;
	if (!(err = ledger_latest(l, &latest)) && !(err = ledger_current(l, &current))) {
		struct slugs_ctx c = { slugs, NULL, keep ? latest - keep + 1 : 0, current };
		if (latest)
			err = ledger_walk(l, 0, 0, add_slug, &c);
	}
	ledger_free(l);
	return err;
}

struct sweep {
	const char *root;
	const struct strvec *keep;
	struct gc_result *res;
};

/* A slug published in the last GC_GRACE seconds may belong to a build about to record it. */
#define GC_GRACE 600

static int is_young(const char *root, const char *hex)
{
	struct stat st;
	char *path = cas_path(root, hex);
	int young = path && stat(path, &st) == 0 && time(NULL) - st.st_mtime < GC_GRACE;
	free(path);
	return young;
}

static int sweep_one(const char *hex, uint64_t size, void *ctx)
{
	struct sweep *s = ctx;
	if (strvec_has_sorted(s->keep, hex) || is_young(s->root, hex) || cas_remove(s->root, hex) < 0)
		return 0;
	s->res->slugs++;
	s->res->slug_bytes += size;
	return 0;
}

struct s3_sweep {
	const char *root;
	const struct strvec *keep;
	const struct s3 *s3;
	struct gc_result *res;
};

/* One key under S3_SLUG_PREFIX: deleted when it is a slug nothing needs. */
static int s3_sweep_one(const char *key, uint64_t size, time_t mtime, void *ctx)
{
	struct s3_sweep *s = ctx;
	const char *name = key + strlen(S3_SLUG_PREFIX);
	char hex[CAS_HEX_LEN + 1];
	if (strlen(name) != CAS_HEX_LEN + strlen(".tar.zst") || strcmp(name + CAS_HEX_LEN, ".tar.zst"))
		return 0; /* not a slug's name: not ours to judge */
	memcpy(hex, name, CAS_HEX_LEN);
	hex[CAS_HEX_LEN] = '\0';
	/*
	 * Young in the local store: a build may be about to record it.  Builds
	 * publish here first, then upload or find it in S3, then record, so the
	 * local object's time covers the bucket's too (S3 times cannot be set).
	 */
	(void)mtime;
	if (!cas_valid_hex(hex) || strvec_has_sorted(s->keep, hex) || is_young(s->root, hex))
		return 0;
	int err = s3_delete(s->s3, key);
	if (!err) {
		s->res->s3_slugs++;
		s->res->s3_bytes += size;
	}
	return err;
}

/* With S3 configured, the bucket's slugs no release needs go too. */
static int gc_s3(const char *root, const struct strvec *kept, struct gc_result *res)
{
	struct s3 s3 = S3_INIT;
	int err = s3_open(&s3, root);
	if (err == SW_ENOTFOUND)
		return 0;
	if (!err) {
		struct s3_sweep s = { root, kept, &s3, res };
		res->s3 = 1;
		err = s3_list(&s3, S3_SLUG_PREFIX, s3_sweep_one, &s);
	}
	s3_release(&s3);
	return err;
}

int gc_run(const char *root, int keep, struct gc_result *res)
{
	struct strvec apps = STRVEC_INIT, kept = STRVEC_INIT;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = app_list(root, &apps)))
		return err;
	for (size_t i = 0; i < apps.n && !err; i++)
		err = collect_kept(root, apps.v[i], keep, &kept);
	if (err)
		goto done;
	strvec_sort(&kept);
	struct sweep s = { root, &kept, res };
	if ((err = cas_foreach(root, sweep_one, &s)))
		goto done;
	if ((err = cas_sweep_tmp(root, &res->temps, &res->temp_bytes)))
		goto done;
	err = gc_s3(root, &kept, res);
done:
	strvec_clear(&apps);
	strvec_clear(&kept);
	return err;
}
