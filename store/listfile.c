#include "store/listfile.h"

#include "store/appctx.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lockfile.h"

#include <stdlib.h>
#include <string.h>

int listfile_parse(const struct listfile *f, const char *text, size_t len, struct strvec *out)
{
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t n, kept = 0;
	while (text_lines_next(&it, &s, &n)) {
		char *line = xstrndup(s, n);
		int keep = f->check ? f->check(line, kept) : 1;
		if (keep >= 0 && memchr(s, '\0', n))
			keep = sw_error_set(SW_EINVALID, "it holds a NUL byte");
		if (keep < 0) {
			free(line);
			return sw_error_prefix(keep, "line %d: ", it.lineno);
		}
		if (keep) {
			strvec_push(out, line);
			kept++;
		}
		free(line);
	}
	return 0;
}

int listfile_read(const struct listfile *f, const char *root, const char *app,
		  struct strvec *out)
{
	char *path = f->path(root, app), *text = NULL;
	size_t len = 0;
	int err = fs_read_file(path, f->max, &text, &len);
	if (err == SW_ENOTFOUND)
		err = 0;
	else if (!err)
		err = listfile_parse(f, text, len, out);
	free(text);
	free(path);
	return err;
}

static void format(const struct strvec *lines, struct buf *b)
{
	for (size_t i = 0; i < lines->n; i++)
		buf_addf(b, "%s\n", lines->v[i]);
}

int listfile_write(const struct listfile *f, const char *root, const char *app,
		   const struct strvec *lines)
{
	struct buf b = BUF_INIT;
	char *path = f->path(root, app);
	format(lines, &b);
	int err = fs_write_atomic(path, b.data, b.len, 0644);
	free(path);
	buf_release(&b);
	return err;
}

/* Takes f's lock on the app's list (see struct listfile), waiting by the one policy. */
static int hold(const struct listfile *f, const char *root, const char *app,
		struct lockfile *lf)
{
	char *path = f->path(root, app);
	char *lock_path = f->lock ? paths_app_file_lock(root, app, f->lock)
				  : app_lock_path(root, app);
	int wait, err = app_lock_wait(&wait);
	if (!err)
		err = lockfile_hold(lf, path, lock_path, wait);
	free(lock_path);
	free(path);
	return err;
}

int listfile_edit(const struct listfile *f, const char *root, const char *app,
		  int (*edit)(struct strvec *lines, void *ctx), void *ctx)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct strvec lines = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int err;

	if ((err = hold(f, root, app, &lf)) || (err = listfile_read(f, root, app, &lines)) ||
	    (err = edit(&lines, ctx)))
		goto done;
	format(&lines, &b);
	err = lockfile_commit(&lf, b.data, b.len, 0644);
done:
	lockfile_rollback(&lf);
	strvec_clear(&lines);
	buf_release(&b);
	return err;
}
