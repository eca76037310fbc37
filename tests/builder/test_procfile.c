#define _GNU_SOURCE
#include "builder/procfile.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct proc_list list = PROC_LIST_INIT;
static char *root;

static void setup(void)
{
	root = th_sandbox();
}

static void teardown(void)
{
	proc_list_release(&list);
	th_sandbox_free(root);
	root = NULL;
}

TestSuite(procfile, .init = setup, .fini = teardown);

static int parse(const char *s)
{
	return procfile_parse(&list, s, strlen(s));
}

static void assert_type(size_t i, const char *name, const char *command)
{
	cr_assert_lt(i, list.n);
	cr_assert_str_eq(list.items[i].name, name);
	cr_assert_str_eq(list.items[i].command, command);
}

/* The parse fails with SW_EINVALID, a message containing each of the needles, and adds nothing. */
static void assert_refused(const char *s, size_t len, const char *needle1, const char *needle2)
{
	size_t before = list.n;

	cr_assert_eq(procfile_parse(&list, s, len), SW_EINVALID, "accepted: %s", s);
	cr_assert(strstr(sw_error_last(), needle1), "message '%s' lacks '%s'", sw_error_last(), needle1);
	if (needle2)
		cr_assert(strstr(sw_error_last(), needle2), "message '%s' lacks '%s'", sw_error_last(), needle2);
	cr_assert_eq(list.n, before, "a failed parse changed the list");
}

Test(procfile, web_and_worker)
{
	cr_assert_eq(parse("web: bin/server\nworker: bin/worker --queue=high\n"), 0, "%s", sw_error_last());
	cr_assert_eq(list.n, 2);
	assert_type(0, "web", "bin/server");
	assert_type(1, "worker", "bin/worker --queue=high");
}

Test(procfile, last_line_without_newline)
{
	cr_assert_eq(parse("web: a\nclock: b"), 0);
	cr_assert_eq(list.n, 2);
	assert_type(1, "clock", "b");
}

Test(procfile, comments_and_blank_lines)
{
	cr_assert_eq(parse("# the processes\n\n   \nweb: a\n\t\n  # indented comment: not a type\nworker: b\n\n"), 0,
		     "%s", sw_error_last());
	cr_assert_eq(list.n, 2);
	assert_type(0, "web", "a");
	assert_type(1, "worker", "b");
}

Test(procfile, crlf_line_ends)
{
	cr_assert_eq(parse("web: a b\r\nworker: c\r\n\r\n"), 0, "%s", sw_error_last());
	cr_assert_eq(list.n, 2);
	assert_type(0, "web", "a b");
	assert_type(1, "worker", "c");
}

Test(procfile, utf8_bom)
{
	cr_assert_eq(parse("\xef\xbb\xbfweb: a\n"), 0, "%s", sw_error_last());
	cr_assert_eq(list.n, 1);
	assert_type(0, "web", "a");
}

Test(procfile, bom_only_at_start)
{
	const char *s = "web: a\n\xef\xbb\xbfworker: b\n";
	assert_refused(s, strlen(s), "line 2", NULL);
}

Test(procfile, command_keeps_later_colons)
{
	cr_assert_eq(parse("web: bundle exec puma -b tcp://0.0.0.0:$PORT\nrelease:rake db:migrate\n"), 0);
	assert_type(0, "web", "bundle exec puma -b tcp://0.0.0.0:$PORT");
	assert_type(1, "release", "rake db:migrate");
}

Test(procfile, surrounding_blanks_trimmed)
{
	cr_assert_eq(parse("   web:    bin/server --x  \t \n\tworker:\tw\t\n"), 0, "%s", sw_error_last());
	assert_type(0, "web", "bin/server --x");
	assert_type(1, "worker", "w");
}

Test(procfile, names_with_all_allowed_characters)
{
	char name[64];

	memset(name, 'n', 63);
	name[63] = '\0';
	char *text = xasprintf("Web_2-x: a\n%s: b\n", name);
	cr_assert_eq(parse(text), 0, "%s", sw_error_last());
	assert_type(0, "Web_2-x", "a");
	assert_type(1, name, "b");
	free(text);
}

Test(procfile, duplicate_type_is_refused)
{
	const char *s = "web: a\nworker: b\n\nweb: c\n";
	assert_refused(s, strlen(s), "'web'", "line 4");
}

Test(procfile, invalid_names_are_refused)
{
	char long_name[65];
	char *text;

	const char *s1 = "web: a\nwe b: c\n";
	assert_refused(s1, strlen(s1), "line 2", "'we b'");
	const char *s2 = ": c\n";
	assert_refused(s2, strlen(s2), "line 1", NULL);
	const char *s3 = "# x\na/b: c\n";
	assert_refused(s3, strlen(s3), "line 2", "'a/b'");
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	text = xasprintf("web: a\n\n%s: c\n", long_name);
	assert_refused(text, strlen(text), "line 3", NULL);
	free(text);
}

Test(procfile, line_without_colon_is_refused)
{
	const char *s = "web: a\nworker bin/worker\n";
	assert_refused(s, strlen(s), "line 2", NULL);
}

Test(procfile, empty_command_is_refused)
{
	const char *s1 = "web:\n";
	assert_refused(s1, strlen(s1), "line 1", "'web'");
	const char *s2 = "web: a\nworker:   \t \r\n";
	assert_refused(s2, strlen(s2), "line 2", "'worker'");
}

Test(procfile, empty_file_has_no_types)
{
	cr_assert_eq(parse(""), 0);
	cr_assert_eq(list.n, 0);
	cr_assert_eq(parse("\n# nothing\n\r\n"), 0);
	cr_assert_eq(list.n, 0);
	cr_assert_eq(parse("\xef\xbb\xbf"), 0);
	cr_assert_eq(list.n, 0);
}

Test(procfile, oversized_file_is_refused)
{
	size_t len = PROCFILE_MAX + 1;
	char *big = xmalloc(len);

	memset(big, '#', len);
	assert_refused(big, len, "too large", NULL);
	big[len - 2] = '\n';
	cr_assert_eq(procfile_parse(&list, big, len - 1), 0, "%s", sw_error_last());
	free(big);
}

Test(procfile, nul_byte_is_refused)
{
	assert_refused("web: a\nworker: b\0c\n", 19, "line 2", "NUL");
	assert_refused("# \0\n", 4, "line 1", NULL);
}

Test(procfile, bytes_need_no_terminator)
{
	const char *s = "web: abcdef\nworker: zzz";

	cr_assert_eq(procfile_parse(&list, s, 8), 0, "%s", sw_error_last());
	cr_assert_eq(list.n, 1);
	assert_type(0, "web", "abc");
}

Test(procfile, duplicates_only_within_one_file)
{
	proc_list_set(&list, "web", "default-web");
	cr_assert_eq(parse("web: mine\n"), 0, "%s", sw_error_last());
	cr_assert_eq(list.n, 2);
}

Test(procfile, load_reads_the_procfile)
{
	char *path = th_path("%s/Procfile", root);

	th_write(path, "web: ./server\r\nworker: ./worker\r\n", 0644);
	cr_assert_eq(procfile_load(&list, root), 0, "%s", sw_error_last());
	cr_assert_eq(list.n, 2);
	assert_type(0, "web", "./server");
	assert_type(1, "worker", "./worker");
	free(path);
}

Test(procfile, load_without_procfile_is_not_found)
{
	cr_assert_eq(procfile_load(&list, root), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "Procfile"), "%s", sw_error_last());
	cr_assert_eq(list.n, 0);
}

Test(procfile, load_refuses_a_symlink)
{
	char *target = th_path("%s/elsewhere", root);
	char *path = th_path("%s/Procfile", root);

	th_write(target, "web: a\n", 0644);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(procfile_load(&list, root), SW_EINVALID);
	cr_assert_eq(list.n, 0);
	free(path);
	free(target);
}

Test(procfile, load_refuses_oversized_file)
{
	char *path = th_path("%s/Procfile", root);
	char *big = xmalloc(PROCFILE_MAX + 2);

	memset(big, '#', PROCFILE_MAX + 1);
	big[PROCFILE_MAX + 1] = '\0';
	th_write(path, big, 0644);
	cr_assert_eq(procfile_load(&list, root), SW_EINVALID);
	cr_assert_eq(list.n, 0);
	free(big);
	free(path);
}

Test(procfile, get_finds_by_name)
{
	cr_assert_null(proc_list_get(&list, "web"));
	cr_assert_eq(parse("web: a\nworker: b\n"), 0);
	cr_assert_str_eq(proc_list_get(&list, "web"), "a");
	cr_assert_str_eq(proc_list_get(&list, "worker"), "b");
	cr_assert_null(proc_list_get(&list, "Web"));
	cr_assert_null(proc_list_get(&list, "clock"));
}

Test(procfile, release_empties_the_list)
{
	cr_assert_eq(parse("web: a\nworker: b\n"), 0);
	proc_list_release(&list);
	cr_assert_eq(list.n, 0);
	cr_assert_null(list.items);
	proc_list_set(&list, "web", "again");
	cr_assert_eq(list.n, 1);
}
