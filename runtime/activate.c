#include "runtime/activate.h"

#include "runtime/release_phase.h"
#include "store/settings.h"
#include "util/error.h"

#include <stdlib.h>

/* Reads what the steps before going live need, before anything is recorded. */
static int release_timeout(const struct activate_opts *o, int *seconds)
{
	struct settings *s = NULL;
	int err = settings_open(&s, o->root, o->app);
	if (!err)
		err = settings_seconds(s, &SETTING_RELEASE_TIMEOUT, seconds);
	settings_free(s);
	return err;
}

int activate(const struct activate_opts *o, struct release *r)
{
	int wanted = release_phase_wanted(r), timeout = 0, err;

	if (wanted && (err = release_timeout(o, &timeout)))
		return err;
	r->status = wanted ? RELEASE_PENDING : RELEASE_SUCCEEDED;
	if ((err = ledger_append(o->ledger, r)) || !wanted)
		return err;

	int ok;
	char *output = NULL;
	release_phase_run(o->root, r, timeout, o->out, &ok, &output);
	r->status = ok ? RELEASE_SUCCEEDED : RELEASE_FAILED;
	err = ledger_finish(o->ledger, r->version, r->status, output);
	free(output);
	return err;
}
