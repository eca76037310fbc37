/*
 * access/sshcmd: SSH_ORIGINAL_COMMAND split into words without a shell,
 * and what it may name.  Every refusal leaves no words and no app behind.
 */
#include "tests/helpers.h"

#include "util/error.h"
#include "access/sshcmd.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* Splits line and checks the words, given as a NULL-terminated list. */
static void split_is(const char *line, const char *const *want)
{
	struct strvec w = STRVEC_INIT;
	cr_assert_eq(sshcmd_split(line, &w), 0, "'%s': %s", line, sw_error_last());
	size_t n = 0;
	while (want[n])
		n++;
	cr_assert_eq(w.n, n, "'%s': %zu words, want %zu", line, w.n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(w.v[i], want[i], "'%s' word %zu", line, i);
	strvec_clear(&w);
}

#define SPLIT(line, ...) split_is(line, (const char *const[]){ __VA_ARGS__, NULL })

/* What the command line lets a remote user run (CMD_REMOTE; tests/hooks/test_commands.c). */
static const char *const remote_commands[] = { "apps", "apps:create", "releases", "releases:info",
					       "releases:output", "rollback", "config",
					       "config:get", "config:set", "config:unset",
					       "slugs:info", "slugs:contents", "help", NULL };

static int remote_allowed(const char *name)
{
	for (size_t i = 0; remote_commands[i]; i++)
		if (!strcmp(remote_commands[i], name))
			return 1;
	return 0;
}

Test(sshcmd, splits_words_and_simple_quotes)
{
	SPLIT("releases -a myapp", "releases", "-a", "myapp");
	SPLIT("  releases\t-a   myapp  ", "releases", "-a", "myapp");
	SPLIT("git-receive-pack 'myapp.git'", "git-receive-pack", "myapp.git");
	SPLIT("git-receive-pack \"myapp.git\"", "git-receive-pack", "myapp.git");
	SPLIT("config:set 'A=b c' \"D=e f\"", "config:set", "A=b c", "D=e f");
	SPLIT("x 'a'b\"c\"", "x", "abc");
	SPLIT("x ''", "x", "");
	/* inside single quotes everything is literal */
	SPLIT("x ';|&$(touch y)`z`\\'", "x", ";|&$(touch y)`z`\\");
	SPLIT("x \"a;b|c\"", "x", "a;b|c");
	SPLIT("x ../../etc", "x", "../../etc");
}

/* Refused lines: the message names the reason, nothing is parsed. */
static void refused(const char *line, const char *msg)
{
	struct sshcmd c = SSHCMD_INIT;
	int err = sshcmd_parse(&c, line, remote_allowed);
	cr_assert_eq(err, SW_EINVALID, "'%s' was not refused (%d)", line ? line : "(null)", err);
	cr_assert(strstr(sw_error_last(), msg), "'%s': message '%s', want '%s'",
		  line ? line : "(null)", sw_error_last(), msg);
	cr_assert(!strchr(sw_error_last(), '\n'), "one line: %s", sw_error_last());
	cr_assert_eq(c.kind, SSHCMD_NONE);
	cr_assert_null(c.app);
	sshcmd_release(&c);
}

#define HINT " in single quotes, or run the command with the slipway client, which quotes for you"

Test(sshcmd, refuses_shell_syntax_outside_quotes_and_shows_the_word_quoted)
{
	refused("releases -a myapp; touch /tmp/x",
		"refused: ';' must be quoted: write 'myapp;' in single quotes, or run the command "
		"with the slipway client, which quotes for you");
	refused("releases -a myapp | touch /tmp/x", "'|' must be quoted: write '|'" HINT);
	refused("releases -a myapp && touch /tmp/x", "'&' must be quoted: write '&&'" HINT);
	refused("config:set URL=postgres://u@h/db?sslmode=require&x=1",
		"'?' must be quoted: write 'URL=postgres://u@h/db?sslmode=require&x=1'" HINT);
	refused("config:set 'A=b'&c", "'&' must be quoted: write 'A=b&c'" HINT);
	refused("releases -a `touch /tmp/x`", "'`' must be quoted: write '`touch'" HINT);
	refused("releases -a $(touch /tmp/x)", "'$' must be quoted: write '$(touch'" HINT);
	refused("releases -a myapp > /tmp/x", "'>' must be quoted");
	refused("releases -a myapp < /etc/passwd", "'<' must be quoted");
	refused("releases -a my\\app", "'\\' must be quoted: write 'my\\app'" HINT);
	refused("releases -a *", "'*' must be quoted");
	refused("releases -a \"$(touch /tmp/x)\"",
		"'$' cannot be used inside double quotes: write '$(touch /tmp/x)'" HINT);
	refused("releases -a \"`id`\"", "'`' cannot be used inside double quotes");
	refused("git-receive-pack 'myapp.git'; touch /tmp/x", "';' must be quoted");
	/* a long word is cut short, and the message stays one line */
	refused("config:set 'A=first\nsecond'&", "'&' must be quoted: write 'A=first...'" HINT);
	char line[200];
	snprintf(line, sizeof(line), "config:set X=%0100d&", 7);
	refused(line, "'&' must be quoted: write 'X=0000");
	cr_assert(strstr(sw_error_last(), "000...'" HINT), "%s", sw_error_last());
}

Test(sshcmd, single_quotes_keep_line_breaks_and_tabs)
{
	SPLIT("config:set 'NL=a\nb' 'T=a\tb' 'E=\n'", "config:set", "NL=a\nb", "T=a\tb", "E=\n");
	SPLIT("releases -a 'myapp\ntouch /tmp/x'", "releases", "-a", "myapp\ntouch /tmp/x");
}

Test(sshcmd, refuses_newlines_controls_and_bad_quotes)
{
	refused("releases -a myapp\ntouch /tmp/x", "refused: the command has more than one line "
		"(a line break can be sent only inside single quotes)");
	refused("releases -a \"myapp\ntouch /tmp/x\"", "more than one line");
	refused("releases -a myapp\r", "more than one line");
	refused("releases -a 'myapp\r'", "more than one line");
	refused("releases -a my\001app", "control character 0x01");
	refused("releases -a 'my\001app'", "control character 0x01");
	refused("releases -a \"a\tb\"", "control character 0x09");
	refused("releases -a 'myapp", "refused: unterminated ' quote");
	refused("releases -a \"myapp", "unterminated \" quote");
	char big[SSHCMD_MAX + 16];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "longer than");
}

/* Quotes each word, joins them with spaces, splits the line: the same words back. */
static void round_trip(const char *const *words)
{
	struct buf line = BUF_INIT;
	struct strvec back = STRVEC_INIT;
	size_t n = 0;
	for (; words[n]; n++) {
		if (n)
			buf_adds(&line, " ");
		sshcmd_quote(&line, words[n]);
	}
	cr_assert_eq(sshcmd_split(line.data, &back), 0, "'%s': %s", line.data, sw_error_last());
	cr_assert_eq(back.n, n, "'%s': %zu words, want %zu", line.data, back.n, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(back.v[i], words[i], "'%s' word %zu", line.data, i);
	strvec_clear(&back);
	buf_release(&line);
}

Test(sshcmd, quoted_words_split_back_byte_for_byte)
{
	round_trip((const char *const[]){ "config:set", "MSG=hello world",
					  "URL=postgres://u@h/db?sslmode=require&x=1", "D=$x",
					  "Q=it's \"q\"", "NL=a\nb", "T=\t", "", "'", "''\"",
					  "\\", "a;b|c&d`e`$(f)", "~", "#x", "-a", "--root", NULL });
	struct buf b = BUF_INIT;
	sshcmd_quote(&b, "config:set");
	buf_adds(&b, " ");
	sshcmd_quote(&b, "it's");
	cr_assert_str_eq(b.data, "config:set 'it'\"'\"'s'");
	buf_release(&b);
}

Test(sshcmd, refuses_empty_and_unknown_commands)
{
	refused(NULL, "refused: slipway has no interactive shell");
	refused("", "no interactive shell");
	refused("   ", "no interactive shell");
	refused("touch /tmp/x", "refused: 'touch' is not a command you can run here");
	refused("sh -c 'touch /tmp/x'", "'sh' is not a command");
	refused("'releases;touch' /tmp/x", "'releases;touch' is not a command");
	refused("shell bob", "'shell' is not a command");
	refused("keys:add mallory -", "'keys:add' is not a command");
	refused("access:add mallory -a myapp", "'access:add' is not a command");
	refused("apps:destroy myapp --confirm myapp", "'apps:destroy' is not a command");
	refused("slugs:extract v1 /tmp/x -a myapp", "'slugs:extract' is not a command");
	refused("git-upload-archive 'myapp.git'", "'git-upload-archive' is not a command");
	refused("releases -a myapp --root /tmp/other", "refused: --root cannot be given over ssh");
	refused("releases -a myapp --root=/tmp/other", "--root cannot be given");
}

Test(sshcmd, refuses_paths_that_are_not_apps)
{
	refused("git-receive-pack '../myapp.git'", "refused: '../myapp.git' is not an app repository");
	refused("git-receive-pack '/../../etc/x.git'", "is not an app repository");
	refused("git-receive-pack 'apps/myapp.git'", "is not an app repository");
	refused("git-receive-pack '/srv/git/myapp.git'", "is not an app repository");
	refused("git-receive-pack 'MyApp.git'", "is not an app repository");
	refused("git-receive-pack '.git'", "is not an app repository");
	refused("git-receive-pack", "takes one repository path");
	refused("git-receive-pack 'myapp.git' extra", "takes one repository path");
}

static void git_cmd_is(const char *line, enum sshcmd_kind kind, const char *app)
{
	struct sshcmd c = SSHCMD_INIT;
	cr_assert_eq(sshcmd_parse(&c, line, remote_allowed), 0, "'%s': %s", line, sw_error_last());
	cr_assert_eq(c.kind, kind, "'%s'", line);
	cr_assert_str_eq(c.app, app, "'%s'", line);
	sshcmd_release(&c);
}

Test(sshcmd, git_commands_name_the_app)
{
	git_cmd_is("git-receive-pack 'myapp.git'", SSHCMD_RECEIVE_PACK, "myapp");
	git_cmd_is("git-receive-pack '/myapp.git'", SSHCMD_RECEIVE_PACK, "myapp");
	git_cmd_is("git-receive-pack '~/myapp.git'", SSHCMD_RECEIVE_PACK, "myapp");
	git_cmd_is("git-receive-pack myapp", SSHCMD_RECEIVE_PACK, "myapp");
	git_cmd_is("git-receive-pack \"/my-app2.git\"", SSHCMD_RECEIVE_PACK, "my-app2");
	git_cmd_is("git-upload-pack '/myapp.git'", SSHCMD_UPLOAD_PACK, "myapp");
}

Test(sshcmd, slipway_commands_keep_their_words)
{
	struct sshcmd c = SSHCMD_INIT;
	cr_assert_eq(sshcmd_parse(&c, "rollback v3 -a 'myapp'", remote_allowed), 0, "%s",
		     sw_error_last());
	cr_assert_eq(c.kind, SSHCMD_SLIPWAY);
	cr_assert_null(c.app);
	cr_assert_eq(c.words.n, 4);
	cr_assert_str_eq(c.words.v[0], "rollback");
	cr_assert_str_eq(c.words.v[1], "v3");
	cr_assert_str_eq(c.words.v[3], "myapp");
	cr_assert_null(c.words.v[4]);
	sshcmd_release(&c);

	static const char *const ok[] = { "apps", "apps:create", "releases", "releases:info",
					  "releases:output", "rollback", "config", "config:get",
					  "config:set", "config:unset", "slugs:info",
					  "slugs:contents", "help", NULL };
	for (size_t i = 0; ok[i]; i++) {
		cr_assert_eq(sshcmd_parse(&c, ok[i], remote_allowed), 0, "%s", ok[i]);
		cr_assert_eq(c.kind, SSHCMD_SLIPWAY, "%s", ok[i]);
		sshcmd_release(&c);
	}
	refused("shell", "'shell' is not a command");
	refused("keys", "'keys' is not a command");
	refused("fsck", "'fsck' is not a command");
	refused("gc", "'gc' is not a command");
}
