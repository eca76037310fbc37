#include "store/maintenance.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int maintenance_on(const char *root, const char *app)
{
	char *path = paths_maintenance_file(root, app);
	int on = fs_exists(path);
	free(path);
	return on;
}

int maintenance_set(const char *root, const char *app, int on)
{
	char *path = paths_maintenance_file(root, app);
	int err = 0;
	if (on)
		err = fs_write_atomic(path, "on\n", 3, 0644);
	else if (unlink(path) < 0 && errno != ENOENT)
		err = sw_error_errno(SW_ERROR, "cannot remove '%s'", path);
	free(path);
	return err;
}
