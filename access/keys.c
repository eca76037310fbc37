#define _GNU_SOURCE
#include "access/keys.h"

#include "access/access.h"
#include "store/appctx.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lockfile.h"
#include "util/util.h"

#include <openssl/evp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_FILE_MAX (4 * 1024 * 1024)
/*
 * OpenSSH's every restriction (no forwarding, no ~/.ssh/rc, and any it adds
 * later) but a pty, which the slipway shell refuses to every command but
 * the consoles, `run`, `pg:psql` and `redis:cli` (cli/shell.c): OpenSSH
 * cannot allow it for some commands only.
 */
#define KEY_OPTIONS "restrict,pty"
/* a control's key for the node agent: every restriction, no pty either */
#define KEY_OPTIONS_AGENT "restrict"
/* what earlier versions wrote: no pty at all */
#define KEY_OPTIONS_OLD "restrict"

static const char *const key_types[] = {
	"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com", NULL,
};

static int type_known(const char *t, size_t n)
{
	for (size_t i = 0; key_types[i]; i++)
		if (strlen(key_types[i]) == n && !strncmp(key_types[i], t, n))
			return 1;
	return 0;
}

void key_release(struct ssh_key *k)
{
	free(k->type);
	free(k->blob);
	free(k->comment);
	k->type = k->blob = k->comment = NULL;
	k->fingerprint[0] = '\0';
}

/* Decodes base64 into a malloc'ed buffer; -1 if s is not base64. */
static long b64_decode(const char *s, unsigned char **out)
{
	size_t n = strlen(s), pad = 0;
	if (n == 0 || n % 4 || n > KEY_TEXT_MAX)
		return -1;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[i]))
			return -1;
	unsigned char *buf = xmalloc(n);
	int len = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	return len - (long)pad;
}

/* The blob holds a key of type: uint32 length, then the type name. */
static int blob_check(const char *type, const unsigned char *blob, long n)
{
	if (n < 4)
		return 0;
	uint32_t len = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	return len == strlen(type) && (long)len + 4 < n && !memcmp(blob + 4, type, len);
}

static void fingerprint(char out[64], const unsigned char *blob, long n)
{
	unsigned char md[32];
	unsigned char b64[48];
	unsigned int mdlen = 0;
	EVP_Digest(blob, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	int len = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (len > 0 && b64[len - 1] == '=')
		len--;
	snprintf(out, 64, "SHA256:%.*s", len, (const char *)b64);
}

int key_parse(struct ssh_key *out, const char *text)
{
	unsigned char *raw = NULL;
	char *line = NULL;
	int err = 0;
	size_t n = strlen(text);

	if (n > KEY_TEXT_MAX)
		return sw_error_set(SW_EINVALID, "the key is longer than %d bytes: give one public key",
				    KEY_TEXT_MAX);
	if (n && text[n - 1] == '\n')
		n--;
	if (n && text[n - 1] == '\r')
		n--;
	line = xstrndup(text, n);
	char *s = line + strspn(line, " \t");
	for (char *p = s; *p; p++) {
		if (*p == '\n') {
			err = sw_error_set(SW_EINVALID,
				"the key has more than one line: give one public key (a .pub file)");
			goto done;
		}
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			err = sw_error_set(SW_EINVALID, "the key has control characters: give one public key");
			goto done;
		}
	}
	size_t tlen = strcspn(s, " \t");
	if (!*s || !type_known(s, tlen)) {
		err = sw_error_set(SW_EINVALID,
			"not a public key: it must start with its type, for example ssh-ed25519 (give the .pub file)");
		goto done;
	}
	char *b = s + tlen;
	b += strspn(b, " \t");
	size_t blen = strcspn(b, " \t");
	char *c = b + blen;
	c += strspn(c, " \t");
	size_t clen = strlen(c);
	while (clen && (c[clen - 1] == ' ' || c[clen - 1] == '\t'))
		clen--;
	out->type = xstrndup(s, tlen);
	out->blob = xstrndup(b, blen);
	out->comment = xstrndup(c, clen);
	long rawlen = b64_decode(out->blob, &raw);
	if (rawlen < 0 || !blob_check(out->type, raw, rawlen)) {
		err = sw_error_set(SW_EINVALID, "invalid %s key: its data is not a %s public key",
				   out->type, out->type);
		goto done;
	}
	fingerprint(out->fingerprint, raw, rawlen);
done:
	if (err)
		key_release(out);
	free(raw);
	free(line);
	return err;
}

int keys_path(char **out)
{
	struct settings *s = NULL;
	int err = settings_open(&s, NULL, NULL);
	if (!err)
		err = settings_string(s, &SETTING_AUTHORIZED_KEYS, out);
	settings_free(s);
	if (err || *out)
		return err;
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return sw_error_set(SW_ERROR,
			"cannot find the home directory: set HOME or slipway.authorizedKeys");
	*out = xasprintf("%s/.ssh/authorized_keys", home);
	return 0;
}

/*
 * If line is one slipway wrote, its user (malloc'ed) and where its key
 * starts; else 0.  Lines start with KEY_OPTIONS "," and the command, or
 * (written by earlier versions) with the command, then more options.
 */
static int managed_line(const char *line, char **user, const char **key)
{
	static const char pre[] = "command=\"";
	if (!strncmp(line, KEY_OPTIONS ",", sizeof(KEY_OPTIONS)))
		line += sizeof(KEY_OPTIONS);
	else if (!strncmp(line, KEY_OPTIONS_OLD ",", sizeof(KEY_OPTIONS_OLD)))
		line += sizeof(KEY_OPTIONS_OLD);
	if (strncmp(line, pre, sizeof(pre) - 1))
		return 0;
	const char *cmd = line + sizeof(pre) - 1;
	const char *end = strchr(cmd, '"');
	if (!end)
		return 0;
	const char *sp = end;
	while (sp > cmd && sp[-1] != ' ')
		sp--;
	if (sp - cmd < 7 || strncmp(sp - 7, " shell ", 7))
		return 0;
	char *u = xstrndup(sp, (size_t)(end - sp));
	const char *k = strchr(end, ' ');
	if (!access_user_valid(u) || !k) {
		free(u);
		return 0;
	}
	*user = u;
	*key = k + 1;
	return 1;
}

/*
 * Appends a line of the file kept as it is (len bytes, its '\n' if any),
 * but that a line slipway wrote without a pty gets KEY_OPTIONS: keys are
 * brought up to date whenever the file is written.
 */
static void add_kept_line(struct buf *out, const char *l, size_t len)
{
	size_t old = sizeof(KEY_OPTIONS_OLD); /* with its ',' */
	char *line = xstrndup(l, len && l[len - 1] == '\n' ? len - 1 : len), *user = NULL;
	const char *k;
	if (strncmp(line, KEY_OPTIONS ",", sizeof(KEY_OPTIONS)) &&
	    !strncmp(line, KEY_OPTIONS_OLD ",", old) && managed_line(line, &user, &k)) {
		buf_adds(out, KEY_OPTIONS ",");
		buf_add(out, l + old, len - old);
	} else {
		buf_add(out, l, len);
	}
	free(user);
	free(line);
}

/* Appends every line of text as add_kept_line() does. */
static void add_kept_text(struct buf *out, const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text + 1) : strlen(text);
		add_kept_line(out, text, len);
		text += len;
	}
}

/* The key blob of any authorized_keys line (options skipped), or NULL (malloc'ed). */
static char *line_blob(const char *line)
{
	const char *p = line;
	while (*p) {
		size_t n = strcspn(p, " \t");
		if (type_known(p, n)) {
			const char *b = p + n;
			b += strspn(b, " \t");
			return *b ? xstrndup(b, strcspn(b, " \t")) : NULL;
		}
		p += n;
		p += strspn(p, " \t");
	}
	return NULL;
}

static int read_keys_file(const char *file, char **text)
{
	int err = fs_read_file(file, KEYS_FILE_MAX, text, NULL);
	if (err == SW_ENOTFOUND) {
		*text = xstrdup("");
		err = 0;
	}
	return err;
}

/* Appends path as a word for the shell sshd runs the forced command with. */
static int add_path_word(struct buf *b, const char *path)
{
	const char *safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+,:@%=-";
	if (path[0] != '/')
		return sw_error_set(SW_EINVALID, "'%s' is not an absolute path", path);
	if (!path[strspn(path, safe)]) {
		buf_adds(b, path);
		return 0;
	}
	for (const char *p = path; *p; p++)
		if (*p == '\'' || *p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			return sw_error_set(SW_EINVALID,
				"cannot use the path '%s' in authorized_keys: move it to a path without quotes, backslashes or control characters",
				path);
	buf_adds(b, "'");
	buf_adds(b, path);
	buf_adds(b, "'");
	return 0;
}

static int make_dir(const char *file)
{
	char *dir = xstrdup(file);
	char *slash = strrchr(dir, '/');
	int err = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		err = fs_mkdir_p(dir, 0700);
	}
	free(dir);
	return err;
}

/* 1 if the directory file would be in exists. */
static int dir_exists(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	int yes = !*dir || fs_is_dir(dir);
	free(dir);
	return yes;
}

/*
 * Takes the lock that guards file: an flock() on its directory, not a
 * "<file>.lock" beside it, so ~/.ssh gets no file of ours.  A lock file
 * earlier versions left there is removed once the lock is held.
 */
static int hold_keys(struct lockfile *lf, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash ? xasprintf("%.*s/", (int)(slash - file), file) : xstrdup("./");
	char *old = xasprintf("%s.lock", file);
	int wait, err = app_lock_wait(&wait);
	if (!err)
		err = lockfile_hold(lf, file, dir, wait);
	if (!err)
		unlink(old); /* nothing takes it any more */
	free(old);
	free(dir);
	return err;
}

/*
 * The line forcing key to "EXE --root ROOT WORDS" with options first
 * (malloc'ed, its '\n' included); words: "shell USER", "node-agent" or
 * "mirror-receive".
 */
static int forced_line(const struct keys_add_opts *o, const char *options, const char *words,
		       const struct ssh_key *key, char **out)
{
	struct buf b = BUF_INIT;
	int err;
	buf_addf(&b, "%s,command=\"", options);
	if ((err = add_path_word(&b, o->exe)) == 0) {
		buf_adds(&b, " --root ");
		err = add_path_word(&b, o->root);
	}
	if (err < 0) {
		buf_release(&b);
		return err;
	}
	buf_addf(&b, " %s\" %s %s", words, key->type, key->blob);
	if (key->comment && *key->comment)
		buf_addf(&b, " %s", key->comment);
	buf_adds(&b, "\n");
	*out = buf_detach(&b);
	return 0;
}

/*
 * Appends new_line to o->file under its lock, unless key is in the file
 * already: SW_EEXISTS, or (same != NULL and the line there is new_line
 * itself) 0 with *same = 1.
 */
static int add_line(const struct keys_add_opts *o, const struct ssh_key *key,
		    const char *new_line, int *same)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct buf out = BUF_INIT;
	char *text = NULL;
	int err;
	size_t nl_len = strlen(new_line) - 1;

	if (same)
		*same = 0;
	if ((err = make_dir(o->file)) < 0 || (err = hold_keys(&lf, o->file)) < 0 ||
	    (err = read_keys_file(o->file, &text)) < 0)
		goto done;
	char *save = NULL;
	char *copy = xstrdup(text);
	for (char *l = strtok_r(copy, "\n", &save); l && !err; l = strtok_r(NULL, "\n", &save)) {
		char *blob = line_blob(l), *owner = NULL;
		const char *k;
		if (blob && !strcmp(blob, key->blob)) {
			if (same && strlen(l) == nl_len && !strncmp(l, new_line, nl_len))
				*same = 1;
			else if (managed_line(l, &owner, &k))
				err = sw_error_set(SW_EEXISTS,
					"this key is already installed for user '%s' (remove it with: slipway keys:remove %s)",
					owner, owner);
			else
				err = sw_error_set(SW_EEXISTS,
					"this key is already in '%s' (not installed by slipway): remove that line first",
					o->file);
		}
		free(owner);
		free(blob);
	}
	free(copy);
	if (err || (same && *same))
		goto done;
	add_kept_text(&out, text);
	if (out.len && out.data[out.len - 1] != '\n')
		buf_adds(&out, "\n");
	buf_adds(&out, new_line);
	err = lockfile_commit(&lf, out.data, out.len, 0600);
done:
	lockfile_rollback(&lf);
	buf_release(&out);
	free(text);
	return err;
}

int keys_add(const struct keys_add_opts *o, const char *user, const struct ssh_key *key)
{
	char *words = NULL, *line = NULL;
	int err;

	if ((err = access_user_new_check(user)) < 0)
		return err;
	words = xasprintf("shell %s", user);
	if ((err = forced_line(o, KEY_OPTIONS, words, key, &line)) == 0)
		err = add_line(o, key, line, NULL);
	free(line);
	free(words);
	return err;
}

int keys_allow_forced(const struct keys_add_opts *o, const char *command,
		      const struct ssh_key *key, int *added)
{
	char *line = NULL;
	int same = 0, err = forced_line(o, KEY_OPTIONS_AGENT, command, key, &line);
	if (!err)
		err = add_line(o, key, line, &same);
	*added = !err && !same;
	free(line);
	return err;
}

int keys_allow_agent(const struct keys_add_opts *o, const struct ssh_key *key, int *added)
{
	return keys_allow_forced(o, "node-agent", key, added);
}

int keys_allow_standby(const struct keys_add_opts *o, const struct ssh_key *key, int *added)
{
	return keys_allow_forced(o, "mirror-receive", key, added);
}

int keys_remove(const char *file, const char *user, int *removed)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct buf out = BUF_INIT;
	char *text = NULL;
	int err, n = 0;

	*removed = 0;
	if ((err = access_user_check(user)) < 0)
		return err;
	if (!dir_exists(file)) /* no directory, no keys: nothing to lock or make */
		return sw_error_set(SW_ENOTFOUND, "user '%s' has no keys (see: slipway keys)", user);
	if ((err = hold_keys(&lf, file)) < 0 || (err = read_keys_file(file, &text)) < 0)
		goto done;
	for (char *l = text; *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
		char *line = xstrndup(l, nl ? len - 1 : len), *owner = NULL;
		const char *k;
		if (managed_line(line, &owner, &k) && !strcmp(owner, user))
			n++;
		else
			add_kept_line(&out, l, len);
		free(owner);
		free(line);
		l += len;
	}
	if (!n) {
		err = sw_error_set(SW_ENOTFOUND, "user '%s' has no keys (see: slipway keys)", user);
		goto done;
	}
	if ((err = lockfile_commit(&lf, out.data, out.len, 0600)) == 0)
		*removed = n;
done:
	lockfile_rollback(&lf);
	buf_release(&out);
	free(text);
	return err;
}

int keys_upgrade(const char *file, int *upgraded)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct buf out = BUF_INIT;
	char *text = NULL;
	int err = 0;

	*upgraded = 0;
	if (!fs_exists(file))
		return 0;
	if ((err = hold_keys(&lf, file)) < 0 || (err = read_keys_file(file, &text)) < 0)
		goto done;
	add_kept_text(&out, text);
	if (strcmp(out.data ? out.data : "", text) &&
	    (err = lockfile_commit(&lf, out.data, out.len, 0600)) == 0)
		*upgraded = 1;
done:
	lockfile_rollback(&lf);
	buf_release(&out);
	free(text);
	return err;
}

int keys_list(const char *file, keys_fn fn, void *ctx)
{
	char *text = NULL, *save = NULL;
	int err = read_keys_file(file, &text);
	if (err)
		return err;
	for (char *l = strtok_r(text, "\n", &save); l && !err; l = strtok_r(NULL, "\n", &save)) {
		char *user = NULL;
		const char *k;
		struct ssh_key key = SSH_KEY_INIT;
		if (managed_line(l, &user, &k) && !key_parse(&key, k))
			err = fn(user, &key, ctx);
		key_release(&key);
		free(user);
	}
	free(text);
	return err < 0 ? err : 0;
}
