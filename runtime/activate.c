#include "runtime/activate.h"

#include "runtime/release_phase.h"
#include "runtime/sandbox.h"
#include "runtime/unpack.h"
#include "store/settings.h"
#include "util/error.h"

#include <stdlib.h>

/*
 * Reads what the steps before going live need, and checks that the sandbox
 * starts, before anything is recorded.
 */
static int prepare(const struct activate_opts *o, struct sandbox *sb, int *seconds)
{
	struct settings *s = NULL;
	int err = settings_open(&s, o->root, o->app);
	if (!err)
		err = settings_seconds(s, &SETTING_RELEASE_TIMEOUT, seconds);
	settings_free(s);
	if (!err)
		err = sandbox_init(sb, o->root, o->app, SANDBOX_RUN);
	if (!err)
		err = sandbox_check(sb);
	/* we hold the app lock: any run directory of the app is a killed run's */
	if (!err)
		err = unpack_clear(o->root, o->app, NULL);
	return err;
}

int activate(const struct activate_opts *o, struct release *r)
{
	struct sandbox sb = SANDBOX_INIT;
	int wanted = release_phase_wanted(r), timeout = 0, err;

	if (wanted && (err = prepare(o, &sb, &timeout))) {
		sandbox_release(&sb);
		return err;
	}
	r->status = wanted ? RELEASE_PENDING : RELEASE_SUCCEEDED;
	if ((err = ledger_append(o->ledger, r)) || !wanted)
		return err;

	int ok;
	char *output = NULL;
	release_phase_run(o->root, o->app, &sb, r, timeout, o->out, &ok, &output);
	r->status = ok ? RELEASE_SUCCEEDED : RELEASE_FAILED;
	err = ledger_finish(o->ledger, r->version, r->status, output);
	free(output);
	return err;
}
