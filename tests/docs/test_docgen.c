/*
 * The generated reference pages (cli/docgen.c): each checked-in page is
 * what slipway-docgen prints from the table it documents, so the docs and
 * the code cannot disagree.
 */
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* docs/PAGE in the source tree is exactly `slipway-docgen MODE`. */
static void assert_page(const char *mode, const char *page)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_DOCGEN, mode, NULL);
	cr_assert_eq(r.status, 0, "slipway-docgen %s: %s", mode, r.err);
	char *path = th_path("%s/%s", SOURCE_DIR, page);
	size_t len = 0;
	char *checked_in = th_read(path, &len);
	cr_assert(checked_in, "%s is missing: run build/slipway-docgen %s > %s", page, mode, page);
	cr_assert(len == strlen(r.out) && !memcmp(checked_in, r.out, len),
		  "%s differs from what its table says: run build/slipway-docgen %s > %s", page,
		  mode, page);
	free(checked_in);
	free(path);
	th_result_free(&r);
}

Test(docgen, commands_md_is_generated_from_the_command_table)
{
	assert_page("commands", "docs/commands.md");
}

Test(docgen, settings_md_is_generated_from_the_settings_table)
{
	assert_page("settings", "docs/settings.md");
}

Test(docgen, an_unknown_mode_is_a_usage_error)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_DOCGEN, "nonsense", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "unknown mode 'nonsense'"), "%s", r.err);
	cr_assert_str_empty(r.out);
	th_result_free(&r);
}

Test(docgen, topics_are_the_command_names_before_their_colon)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_DOCGEN, "topics", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "apps\nreleases\n", 14), "%s", r.out);
	cr_assert(strstr(r.out, "\npg\n") && strstr(r.out, "\ncompletion\n"), "%s", r.out);
	char *again = strstr(r.out, "\nreleases\n");
	cr_assert(again && !strstr(again + 1, "\nreleases\n"), "not once: %s", r.out);
	cr_assert(!strstr(r.out, "watch"), "a hidden command's topic: %s", r.out);
	th_result_free(&r);
}

Test(docgen, a_topic_s_page_holds_its_commands_and_no_other)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_DOCGEN, "man", "pg", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "title: slipway-pg\nsection: 1\n", 29), "%s", r.out);
	cr_assert(strstr(r.out, "\n## pg:backups:capture\n"), "%s", r.out);
	cr_assert(!strstr(r.out, "redis:cli"), "%s", r.out);
	cr_assert(strstr(r.out, "# SEE ALSO\n\n**slipway**(1)"), "%s", r.out);
	th_result_free(&r);
}

Test(docgen, an_unknown_topic_is_a_usage_error)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_DOCGEN, "man", "nonsense", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "no command has the topic 'nonsense'"), "%s", r.err);
	cr_assert_str_empty(r.out);
	th_result_free(&r);
	r = th_runv(NULL, NULL, SLIPWAY_DOCGEN, "man", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_str_empty(r.out);
	th_result_free(&r);
}
