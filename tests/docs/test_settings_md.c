/*
 * docs/settings.md is what the settings table says (store/settings.c,
 * written by settings_write_reference(), the page `slipway-docgen settings`
 * prints): change a row, regenerate the page.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "store/settings.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(settings_md, is_generated_from_the_settings_table)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	cr_assert(f);
	cr_assert_eq(settings_write_reference(f), 0);
	fclose(f);

	char *path = th_path("%s/docs/settings.md", SOURCE_DIR);
	size_t have = 0;
	char *checked_in = th_read(path, &have);
	cr_assert(checked_in, "docs/settings.md is missing: run build/slipway-docgen settings > "
			      "docs/settings.md");
	cr_assert(have == len && !memcmp(checked_in, page, len),
		  "docs/settings.md differs from the settings table (store/settings.c): run "
		  "build/slipway-docgen settings > docs/settings.md");
	/* every row is on the page */
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		char *row = th_path("| `%s` |", settings_table[i].key);
		cr_assert(strstr(page, row), "no row for %s", settings_table[i].key);
		free(row);
	}
	free(checked_in);
	free(path);
	free(page);
}
