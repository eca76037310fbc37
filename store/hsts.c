#include "store/hsts.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const long max_ages[HSTS_STEPS] = { 300, 86400, 604800, 31536000 };

long hsts_max_age(int step)
{
	return max_ages[step < 0 ? 0 : step >= HSTS_STEPS ? HSTS_STEPS - 1 : step];
}

int hsts_read(const char *root, const char *app, struct hsts *h)
{
	char *path = paths_hsts_file(root, app), *text = NULL;
	long long since = 0;
	int step = 0, err = fs_read_file(path, 64, &text, NULL);
	*h = (struct hsts)HSTS_INIT;
	if (err == SW_ENOTFOUND) {
		err = 0;
	} else if (!err) {
		/* a line that does not parse is a step 0 begun now: never more than was sent */
		if (sscanf(text, "%d %lld", &step, &since) != 2 || step < 0 || step >= HSTS_STEPS)
			step = 0, since = time(NULL);
		*h = (struct hsts){ .on = 1, .step = step, .since = (time_t)since };
	}
	free(text);
	free(path);
	return err;
}

int hsts_write(const char *root, const char *app, const struct hsts *h)
{
	char *path = paths_hsts_file(root, app);
	int err = 0;
	if (h->on) {
		char text[64];
		int n = snprintf(text, sizeof(text), "%d %lld\n", h->step, (long long)h->since);
		err = fs_write_atomic(path, text, (size_t)n, 0600);
	} else if (unlink(path) == 0) {
		err = fs_fsync_parent(path);
	} else if (errno != ENOENT) {
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
	}
	free(path);
	return err;
}

time_t hsts_next(const struct hsts *h)
{
	if (!h->on || h->step >= HSTS_STEPS - 1)
		return 0;
	return h->since + hsts_max_age(h->step);
}

int hsts_advance(struct hsts *h, time_t now, int live)
{
	if (!h->on)
		return 0;
	if (!live) {
		/* the step counts only time the app's HTTPS was there to answer */
		if (h->since == now)
			return 0;
		h->since = now;
		return 1;
	}
	time_t next = hsts_next(h);
	if (!next || now < next)
		return 0;
	h->step++;
	h->since = now;
	return 1;
}
