/* releases:diff: arguments; view/diff.h renders store/diff.h's comparison. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"
#include "view/diff.h"

#include "store/diff.h"
#include "store/ledger.h"
#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the command ---- */

/*
 * The two versions: "vA vB"; "vB" alone is vB against the release before
 * it; none, the latest against the one before it.
 */
static int pick_versions(struct cli *c, struct ledger *l, int *va, int *vb)
{
	int latest = 0;
	if (c->nargs == 2)
		return release_parse_version(c->args[0], va) < 0 ||
				       release_parse_version(c->args[1], vb) < 0
			       ? cli_fail()
			       : 0;
	if ((c->nargs && release_parse_version(c->args[0], vb) < 0) || ledger_latest(l, &latest) < 0)
		return cli_fail();
	if (!c->nargs && !latest) {
		say(stderr, SAY_ERROR, "%s has no releases.", c->app);
		return 1;
	}
	if (!c->nargs)
		*vb = latest;
	if (*vb > latest) {
		say(stderr, SAY_ERROR, "release v%d does not exist", *vb);
		return 1;
	}
	if (*vb == 1) {
		say(stderr, SAY_ERROR, "v1 is the first release of %s: there is no release before it "
				       "to compare with.",
		    c->app);
		return 1;
	}
	*va = *vb - 1;
	return 0;
}

struct releases_diff_args {
	int json, values;
};

const struct opt releases_diff_opts[] = {
	CLI_OPT_JSON(struct releases_diff_args),
	OPT_FLAG(0, "values", struct releases_diff_args, values,
		 "show the config vars' values (masked by default)"),
	OPT_END_OF(struct releases_diff_args),
};

int cmd_releases_diff(struct cli *c)
{
	const struct releases_diff_args *a = c->options;
	struct release_diff d = { 0 };
	struct ledger *l = NULL;
	int va = 0, vb = 0, rc = cli_open_app(c, &l);
	if (!rc)
		rc = pick_versions(c, l, &va, &vb);
	ledger_free(l);
	if (rc)
		return rc;
	if (release_diff(c->root, c->app, va, vb, &d) < 0) {
		rc = cli_fail();
		goto done;
	}
	struct buf out = BUF_INIT;
	if (a->json)
		view_diff_json(&out, c->app, &d, a->values);
	else
		view_diff_text(&out, c->app, &d, a->values);
	cli_put(&out);
done:
	release_diff_release(&d);
	return rc;
}
