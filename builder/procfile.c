#include "procfile.h"

#include "store/error.h"
#include "store/fsutil.h"
#include "store/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROC_NAME_MAX 63

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int name_valid_n(const char *s, size_t n)
{
	if (n < 1 || n > PROC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return 0;
	return 1;
}

int proc_name_valid(const char *name)
{
	return name && name_valid_n(name, strlen(name));
}

static struct proc_type *find(const struct proc_list *l, size_t from, const char *name)
{
	for (size_t i = from; i < l->n; i++)
		if (!strcmp(l->items[i].name, name))
			return &l->items[i];
	return NULL;
}

static void append(struct proc_list *l, char *name, char *command)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n].name = name;
	l->items[l->n].command = command;
	l->n++;
}

void proc_list_set(struct proc_list *l, const char *name, const char *command)
{
	struct proc_type *t = find(l, 0, name);

	if (t) {
		char *old = t->command;
		t->command = xstrdup(command);
		free(old);
		return;
	}
	append(l, xstrdup(name), xstrdup(command));
}

const char *proc_list_get(const struct proc_list *l, const char *name)
{
	struct proc_type *t = find(l, 0, name);
	return t ? t->command : NULL;
}

/* Drops the items from index n on. */
static void truncate_list(struct proc_list *l, size_t n)
{
	while (l->n > n) {
		l->n--;
		free(l->items[l->n].name);
		free(l->items[l->n].command);
	}
}

void proc_list_release(struct proc_list *l)
{
	truncate_list(l, 0);
	free(l->items);
	l->items = NULL;
	l->cap = 0;
}

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
	if (!name_valid_n(name, namelen)) {
		int err = sw_error_set(SW_EINVALID,
				       "procfile line %d: invalid process type '%s' (use 1 to %d letters, digits, '_' or '-')",
				       lineno, name, PROC_NAME_MAX);
		free(name);
		return err;
	}
	if (find(out, start, name)) {
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
	append(out, name, xstrndup(cmd, cmdlen));
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
		truncate_list(out, start);
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
