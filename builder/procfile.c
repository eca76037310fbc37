#include "builder/procfile.h"

#include "store/procs.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Narrows [*s, *s + *n) to drop blanks at both ends. */
static void trim(const char **s, size_t *n)
{
	while (*n && blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && blank((*s)[*n - 1]))
		(*n)--;
}

/* Parses one line (no newline, no CR); start is where this parse began in out. */
static int parse_line(struct proc_list *out, size_t start, int lineno,
		      const char *s, size_t n)
{
	const char *colon, *cmd;
	size_t namelen, cmdlen;
	char *name;

	trim(&s, &n);
	if (!n || *s == '#')
		return 0;
	colon = memchr(s, ':', n);
	if (!colon)
		return sw_error_set(SW_EINVALID, "procfile line %d: expected 'type: command'", lineno);
	namelen = (size_t)(colon - s);
	trim(&s, &namelen);
	cmd = colon + 1;
	cmdlen = n - (size_t)(cmd - s);
	trim(&cmd, &cmdlen);
	name = xstrndup(s, namelen);
	if (!proc_name_valid_n(name, namelen)) {
		int err = sw_error_set(SW_EINVALID,
				       "procfile line %d: invalid process type '%s' (use 1 to %d letters, digits, '_' or '-')",
				       lineno, name, PROC_NAME_MAX);
		free(name);
		return err;
	}
	if (proc_list_find(out, start, name)) {
		int err = sw_error_set(SW_EINVALID, "procfile line %d: process type '%s' is defined twice",
				       lineno, name);
		free(name);
		return err;
	}
	if (!cmdlen) {
		int err = sw_error_set(SW_EINVALID, "procfile line %d: process type '%s' has no command",
				       lineno, name);
		free(name);
		return err;
	}
	proc_list_append(out, name, xstrndup(cmd, cmdlen));
	return 0;
}

int procfile_parse(struct proc_list *out, const char *data, size_t len)
{
	size_t start = out->n, pos = 0;
	int lineno = 0, err = 0;

	if (len > PROCFILE_MAX)
		return sw_error_set(SW_EINVALID, "procfile is too large (%zu bytes, at most %d)",
				    len, PROCFILE_MAX);
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len && !err) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\0', n))
			err = sw_error_set(SW_EINVALID, "procfile line %d: contains a NUL byte", lineno);
		else
			err = parse_line(out, start, lineno, line, n);
	}
	if (err)
		proc_list_truncate(out, start);
	return err;
}

int procfile_load(struct proc_list *out, const char *dir)
{
	char *path = xasprintf("%s/Procfile", dir);
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	int err;

	if (lstat(path, &st) < 0) {
		err = errno == ENOENT
			? sw_error_set(SW_ENOTFOUND, "no Procfile in '%s'", dir)
			: sw_error_errno(SW_ERROR, "cannot read '%s'", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		err = sw_error_set(SW_EINVALID, "'%s' is not a regular file", path);
		goto done;
	}
	if (st.st_size > PROCFILE_MAX) {
		err = sw_error_set(SW_EINVALID, "procfile is too large (%lld bytes, at most %d)",
				   (long long)st.st_size, PROCFILE_MAX);
		goto done;
	}
	if ((err = fs_read_file(path, PROCFILE_MAX, &data, &len)) < 0)
		goto done;
	err = procfile_parse(out, data, len);
done:
	free(data);
	free(path);
	return err;
}
