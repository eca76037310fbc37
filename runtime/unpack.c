#include "runtime/unpack.h"

#include "store/cas.h"
#include "store/paths.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

int unpack_slug(const char *root, const char *hex, char **out)
{
	char *parent = paths_unpacked_dir(root);
	char *dir = paths_unpacked(root, hex);
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
	/* another release may have unpacked the same slug meanwhile: its tree is as good */
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
