#define _GNU_SOURCE
#include "access/sshcmd.h"

#include "store/app.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

/* Special to a shell outside quotes; refused there. */
static const char unquoted_special[] = ";&|<>(){}$`\\*?[]#!";
/* Special to a shell inside double quotes; refused there. */
static const char dquoted_special[] = "$`\\";

static int refuse_char(unsigned char c, const char *where)
{
	if (c == '\n' || c == '\r')
		return sw_error_set(SW_EINVALID, "refused: the command has more than one line");
	if (c < 0x20 || c == 0x7f)
		return sw_error_set(SW_EINVALID, "refused: control character 0x%02x in the command", c);
	return sw_error_set(SW_EINVALID, "refused: '%c' is not allowed %s", c, where);
}

int sshcmd_split(const char *line, struct strvec *out)
{
	struct buf w = BUF_INIT;
	int in_word = 0, err = 0;
	char quote = 0;

	if (strlen(line) > SSHCMD_MAX)
		return sw_error_set(SW_EINVALID, "refused: the command is longer than %d bytes",
				    SSHCMD_MAX);
	for (const char *p = line; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f || (c == '\t' && quote)) {
			err = refuse_char(c, "");
			goto done;
		}
		if (quote) {
			if (c == (unsigned char)quote)
				quote = 0;
			else if (quote == '"' && strchr(dquoted_special, c)) {
				err = refuse_char(c, "inside double quotes (use single quotes)");
				goto done;
			} else
				buf_add(&w, p, 1);
		} else if (c == ' ' || c == '\t') {
			if (in_word)
				strvec_push(out, w.data);
			buf_reset(&w);
			in_word = 0;
		} else if (c == '\'' || c == '"') {
			quote = (char)c;
			in_word = 1;
		} else if (strchr(unquoted_special, c)) {
			err = refuse_char(c, "outside quotes");
			goto done;
		} else {
			buf_add(&w, p, 1);
			in_word = 1;
		}
	}
	if (quote) {
		err = sw_error_set(SW_EINVALID, "refused: unterminated %c quote", quote);
		goto done;
	}
	if (in_word)
		strvec_push(out, w.data);
done:
	buf_release(&w);
	return err;
}

/* "myapp", "myapp.git", "/myapp.git", "~/myapp.git" -> "myapp". */
static int repo_app(const char *path, char **app)
{
	const char *s = path;
	if (s[0] == '/')
		s++;
	else if (s[0] == '~' && s[1] == '/')
		s += 2;
	size_t n = strlen(s);
	if (n > 4 && !strcmp(s + n - 4, ".git"))
		n -= 4;
	char *name = xstrndup(s, n);
	if (!app_name_valid(name)) {
		free(name);
		return sw_error_set(SW_EINVALID,
			"refused: '%s' is not an app repository (use APP.git, for example myapp.git)",
			path);
	}
	*app = name;
	return 0;
}

int sshcmd_parse(struct sshcmd *out, const char *line, int (*allowed)(const char *name))
{
	int err;
	if (!line || !line[strspn(line, " \t")])
		return sw_error_set(SW_EINVALID,
			"refused: slipway has no interactive shell (push with git, or run: ssh HOST help)");
	if ((err = sshcmd_split(line, &out->words)) < 0)
		return err;
	char **w = out->words.v;
	size_t n = out->words.n;
	int receive = !strcmp(w[0], "git-receive-pack"), upload = !strcmp(w[0], "git-upload-pack");
	if (receive || upload) {
		if (n != 2)
			return sw_error_set(SW_EINVALID, "refused: %s takes one repository path", w[0]);
		if ((err = repo_app(w[1], &out->app)) < 0)
			return err;
		out->kind = receive ? SSHCMD_RECEIVE_PACK : SSHCMD_UPLOAD_PACK;
		return 0;
	}
	if (!allowed(w[0]))
		return sw_error_set(SW_EINVALID,
			"refused: '%s' is not a command you can run here (run: ssh HOST help)", w[0]);
	for (size_t i = 1; i < n; i++)
		if (!strncmp(w[i], "--root", 6))
			return sw_error_set(SW_EINVALID, "refused: --root cannot be given over ssh");
	out->kind = SSHCMD_SLIPWAY;
	return 0;
}

void sshcmd_release(struct sshcmd *c)
{
	free(c->app);
	c->app = NULL;
	strvec_clear(&c->words);
	c->kind = SSHCMD_NONE;
}
