/*
 * `slipway completion bash` (cli/completion.h): real bash sources the
 * script and completes lines as bash would hand them to it; what it
 * offers comes from the command table, --help's options and a real root.
 */
#include "cli/cli.h"
#include "tests/helpers.h"
#include "tests/release_helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* tests/cli/complete.sh completes a line as bash does on TAB (it says how). */
#define COMPLETE_SH TESTS_DIR "/cli/complete.sh"

static char *dir;

static void setup(void)
{
	dir = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(dir);
	th_keep_free();
}

TestSuite(completion, .init = setup, .fini = teardown);

/*
 * What completing line offers, run in cwd with env (at most one entry):
 * one reply a line, sorted.  The slipway the line names is the one built.
 */
static char *complete_in(const char *cwd, const char *const *env, const char *line)
{
	char *bin = th_keep(strdup(SLIPWAY_BIN));
	*strrchr(bin, '/') = '\0';
	const char *path_env[] = { th_keep(th_path("PATH=%s:%s", bin, getenv("PATH"))),
				   env ? env[0] : NULL, NULL };
	struct th_result r = th_runv(cwd, path_env, "bash", "--norc", "--noprofile", COMPLETE_SH,
				     SLIPWAY_COMPLETION, line, NULL);
	cr_assert_eq(r.status, 0, "completing '%s': %s", line, r.err);
	cr_assert_str_empty(r.err, "completing '%s' said: %s", line, r.err);
	char *path = th_path("%s/replies", dir);
	th_write(path, r.out, 0644);
	struct th_result s = th_runv(NULL, NULL, "sort", path, NULL);
	cr_assert_eq(s.status, 0);
	free(path);
	th_result_free(&r);
	free(s.err);
	return s.out;
}

static char *complete(const char *line)
{
	return complete_in(NULL, NULL, line);
}

/* The words, sorted, one a line: what complete() returns when it offers them. */
static char *lines_of(const char *const *words)
{
	char *path = th_path("%s/expected", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	for (size_t i = 0; words[i]; i++)
		fprintf(f, "%s\n", words[i]);
	fclose(f);
	struct th_result s = th_runv(NULL, NULL, "sort", path, NULL);
	free(path);
	free(s.err);
	return s.out;
}

/* A command's options as its --help lists them ("-a" "--app" ...), into words. */
static size_t help_options(const char *name, const char **words, size_t max)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_BIN, name, "--help", NULL);
	cr_assert_eq(r.status, 0, "%s --help: %s", name, r.err);
	const char *p = strstr(r.out, "\nOptions:\n");
	cr_assert(p, "%s --help lists no options: %s", name, r.out);
	size_t n = 0;
	for (p = strchr(p + 1, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
		/* "  -a, --app APP      text": the left column, up to two spaces */
		if (!strncmp(p, "  -", 3)) {
			const char *q = p + 2, *end = strstr(q, "  ");
			while (q < end && *q == '-') {
				size_t len = strcspn(q, " ,\n");
				cr_assert(n < max);
				words[n++] = th_keep(strndup(q, len));
				q += len;
				q += strspn(q, ", ");
				if (*q != '-') /* past a value name ("APP") */
					q = end;
			}
		}
		if (!strchr(p, '\n'))
			break;
	}
	words[n] = NULL;
	th_result_free(&r);
	return n;
}

Test(completion, the_build_s_script_is_what_the_command_prints)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_BIN, "completion", "bash", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	size_t len = 0;
	char *built = th_read(SLIPWAY_COMPLETION, &len);
	cr_assert(built, "no script at %s", SLIPWAY_COMPLETION);
	cr_assert(len == strlen(r.out) && !memcmp(built, r.out, len));
	cr_assert(strstr(r.out, "complete -F _slipway slipway\n"));
	free(built);
	th_result_free(&r);
}

Test(completion, another_shell_is_a_usage_error)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_BIN, "completion", "zsh", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "error: unknown shell 'zsh': slipway completes only bash\n"), "%s",
		  r.err);
	cr_assert_str_empty(r.out);
	th_result_free(&r);
	r = th_runv(NULL, NULL, SLIPWAY_BIN, "completion", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "missing argument for completion"), "%s", r.err);
	cr_assert_str_empty(r.out);
	th_result_free(&r);
}

Test(completion, a_prefix_offers_the_commands_of_the_table)
{
	const char *want[16];
	size_t n = 0;
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN) && !strncmp(c->name, "rel", 3))
			want[n++] = c->name;
	want[n] = NULL;
	char *got = complete("slipway rel");
	cr_assert(strstr(got, "releases\n") && strstr(got, "releases:info\n"), "%s", got);
	cr_assert_str_eq(got, th_keep(lines_of(want)));
	free(got);
	/* a hidden command is not offered */
	got = complete("slipway watch");
	cr_assert_str_empty(got);
	free(got);
}

Test(completion, after_a_colon_it_offers_what_bash_replaces)
{
	char *got = complete("slipway releases:");
	cr_assert_str_eq(got, th_keep(lines_of((const char *const[]){
				      "info", "output", "diff", "rollback", "retry", "promote",
				      NULL })));
	free(got);
	got = complete("slipway pg:backups:c");
	cr_assert_str_eq(got, "capture\n");
	free(got);
	got = complete("slipway --root /tmp releases:in");
	cr_assert_str_eq(got, "info\n");
	free(got);
	got = complete("slipway help releases:in");
	cr_assert_str_eq(got, "info\n");
	free(got);
	got = complete("slipway help releases:info rel"); /* help takes one */
	cr_assert_str_empty(got);
	free(got);
}

Test(completion, a_command_s_long_options_are_exactly_its_table_s)
{
	const struct cmd *cmd = cli_find("releases:info");
	const struct opt *groups[4];
	const char *want[32];
	size_t n = 0;
	cli_option_groups(cmd, groups);
	for (size_t g = 0; groups[g]; g++)
		for (const struct opt *o = groups[g]; o->kind != OPT_KIND_END; o++)
			if (o->long_name && !(o->flags & OPT_HIDDEN))
				want[n++] = th_keep(th_path("--%s", o->long_name));
	want[n] = NULL;
	char *got = complete("slipway releases:info --");
	cr_assert_str_eq(got, th_keep(lines_of(want)));
	cr_assert(strstr(got, "--shell\n") && strstr(got, "--app\n"), "%s", got);
	free(got);
}

Test(completion, every_option_help_lists_is_completed_and_no_other)
{
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		const char *want[64];
		help_options(c->name, want, 63);
		char *line = th_path("slipway %s -", c->name);
		char *got = complete(line);
		cr_assert_str_eq(got, th_keep(lines_of(want)), "%s", line);
		free(got);
		free(line);
		th_keep_free(); /* what this command's check kept */
	}
}

Test(completion, app_names_come_from_the_root)
{
	char *root = rh_root();
	rh_app(root, "web-one");
	rh_app(root, "worker");
	rh_app(root, "api");
	const char *env[] = { th_keep(th_path("SLIPWAY_ROOT=%s", root)), NULL };
	char *got = complete_in(NULL, env, "slipway logs -a ");
	cr_assert_str_eq(got, "api\nweb-one\nworker\n");
	free(got);
	got = complete_in(NULL, env, "slipway releases --app=w");
	cr_assert_str_eq(got, "web-one\nworker\n");
	free(got);
	/* an option whose value is an APP too */
	got = complete_in(NULL, env, "slipway releases:promote -a api --to web");
	cr_assert_str_eq(got, "web-one\n");
	free(got);
	/* the line's --root, before or after the command */
	char *line = th_path("slipway --root %s logs -a a", root);
	got = complete(line);
	cr_assert_str_eq(got, "api\n");
	free(got);
	free(line);
	line = th_path("slipway logs --root=%s -a wo", root);
	got = complete(line);
	cr_assert_str_eq(got, "worker\n");
	free(got);
	free(line);
	th_sandbox_free(root);
}

Test(completion, a_root_that_cannot_list_apps_offers_nothing_quietly)
{
	char *line = th_path("slipway --root %s/missing logs -a ", dir);
	char *got = complete(line); /* asserts that nothing is said on stderr */
	cr_assert_str_empty(got);
	free(got);
	free(line);
}

Test(completion, remotes_come_from_git)
{
	struct th_result r = th_runv(dir, NULL, "git", "init", "-q", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	r = th_runv(dir, NULL, "git", "remote", "add", "heroku", "git@example.test:a.git", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	r = th_runv(dir, NULL, "git", "remote", "add", "staging", "git@example.test:b.git", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	char *got = complete_in(dir, NULL, "slipway releases -r ");
	cr_assert_str_eq(got, "heroku\nstaging\n");
	free(got);
	got = complete_in(dir, NULL, "slipway releases --remote=st");
	cr_assert_str_eq(got, "staging\n");
	free(got);
}
