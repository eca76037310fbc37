#define _GNU_SOURCE
#include "builder/buildlimits.h"

#include "store/settings.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

/* An absolute path, or (or_none) "none"; else refused naming where it was set. */
static int check_path(struct settings *s, const struct setting *def, char **v, int or_none)
{
	if (!*v || (*v)[0] == '/' || (or_none && !strcmp(*v, "none")))
		return 0;
	int err = settings_blame(s, def, sw_error_set(SW_EINVALID, or_none
		? "'%s' is neither an absolute path nor 'none'" : "'%s' is not an absolute path", *v));
	free(*v);
	*v = NULL; /* never a relative directory, even for gc */
	return err;
}

int build_limits_load(const char *root, const char *app, struct build_limits *out)
{
	struct settings *s = NULL;
	int err;

	*out = (struct build_limits)BUILD_LIMITS_INIT;
	if ((err = settings_open(&s, root, app)))
		return err;
	if ((err = settings_seconds(s, &SETTING_COMPILE_TIMEOUT, &out->compile_timeout_sec)) ||
	    (err = settings_size(s, &SETTING_MAX_SLUG_SIZE, &out->max_slug_size)) ||
	    (err = settings_string(s, &SETTING_BUILD_DIR, &out->build_dir)) ||
	    (err = check_path(s, &SETTING_BUILD_DIR, &out->build_dir, 0)) ||
	    (err = settings_string(s, &SETTING_TMPFS, &out->tmpfs)) ||
	    (err = check_path(s, &SETTING_TMPFS, &out->tmpfs, 1)) ||
	    (err = settings_string(s, &SETTING_STACK, &out->stack)) ||
	    (err = settings_bool(s, &SETTING_TIMINGS, &out->timings)) ||
	    (err = settings_size(s, &SETTING_MAX_SLUG_UNPACKED_SIZE, &out->max_unpacked)) ||
	    (err = settings_count(s, &SETTING_MAX_SLUG_FILES, &out->max_files)) ||
	    (err = settings_size(s, &SETTING_MAX_BUILD_OUTPUT, &out->max_output)))
		build_limits_release(out);
	settings_free(s);
	return err;
}

void build_limits_release(struct build_limits *l)
{
	free(l->build_dir);
	free(l->tmpfs);
	free(l->stack);
	l->build_dir = l->tmpfs = l->stack = NULL;
}
