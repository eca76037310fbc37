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

/* Longest word a refusal shows quoted; longer ones end in "...". */
#define HINT_MAX 60

/* Never special to sshcmd_split() nor to a POSIX shell: left bare by sshcmd_quote(). */
static int word_safe(const char *w)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789-_.,/:=@%+^";
	return *w && w[strspn(w, safe)] == '\0';
}

/* sshcmd_quote(), in single quotes even when nothing needs them if always. */
static void quote_word(struct buf *b, const char *word, int always)
{
	if (!always && word_safe(word)) {
		buf_adds(b, word);
		return;
	}
	buf_add(b, "'", 1);
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			buf_adds(b, "'\"'\"'"); /* close, a quote in double quotes, reopen */
		else
			buf_add(b, p, 1);
	}
	buf_add(b, "'", 1);
}

void sshcmd_quote(struct buf *b, const char *word)
{
	quote_word(b, word, 0);
}

/*
 * The refusal of the character at p: the word it is in (what was read of
 * it, then the rest of the line up to a space outside quotes) shown
 * single-quoted, so the
 * user sees what to type.
 */
static int refuse_char(const char *p, const struct buf *word, char open, const char *where)
{
	unsigned char c = (unsigned char)*p;
	if (c == '\n' || c == '\r')
		return sw_error_set(SW_EINVALID, "refused: the command has more than one line "
				    "(a line break can be sent only inside single quotes)");
	if (c < 0x20 || c == 0x7f)
		return sw_error_set(SW_EINVALID, "refused: control character 0x%02x in the command", c);
	struct buf w = BUF_INIT, q = BUF_INIT;
	buf_add(&w, word->data, word->len);
	const char *end = p;
	for (; *end && (unsigned char)*end >= 0x20 && *end != 0x7f; end++) {
		if (*end == open)
			open = 0;
		else if (!open && (*end == '\'' || *end == '"'))
			open = *end;
		else if (open || *end != ' ')
			buf_add(&w, end, 1);
		else
			break;
	}
	size_t shown = 0; /* the message is one line: the word up to a line break or tab */
	while (shown < w.len && shown < HINT_MAX && (unsigned char)w.data[shown] >= 0x20)
		shown++;
	if (shown < w.len) {
		buf_truncate(&w, shown);
		buf_adds(&w, "...");
	}
	quote_word(&q, w.data, 1);
	int err = sw_error_set(SW_EINVALID, "refused: '%c' %s: write %s in single quotes, or "
			       "run the command with the slipway client, which quotes for you",
			       c, where, q.data);
	buf_release(&q);
	buf_release(&w);
	return err;
}

/* Control characters are refused but for tabs, and line breaks and tabs inside '...'. */
static int control_refused(unsigned char c, char quote)
{
	if (quote == '\'' && (c == '\n' || c == '\t'))
		return 0;
	if (c == '\t' && !quote)
		return 0;
	return c < 0x20 || c == 0x7f;
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
		if (control_refused(c, quote)) {
			err = refuse_char(p, &w, quote, "");
			goto done;
		}
		if (quote) {
			if (c == (unsigned char)quote)
				quote = 0;
			else if (quote == '"' && strchr(dquoted_special, c)) {
				err = refuse_char(p, &w, quote, "cannot be used inside double quotes");
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
			err = refuse_char(p, &w, quote, "must be quoted");
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
