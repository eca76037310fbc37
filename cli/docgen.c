/*
 * slipway-docgen - prints a reference page of the documentation from the
 * tables it documents, so the two cannot drift apart:
 *
 *     slipway-docgen settings > docs/settings.md
 *
 * MODE names the page (modes[] below; a new page is one function and one
 * row).  The page goes to stdout; exit 0, 1 when it cannot be written, 2
 * for an unknown MODE.  Not installed: the build and the docs tests run it.
 */
#include "store/settings.h"

#include <stdio.h>
#include <string.h>

/* docs/settings.md: the settings table's rows (store/settings.c writes it). */
static void print_settings(FILE *out)
{
	settings_write_reference(out);
}

static const struct mode {
	const char *name;
	void (*print)(FILE *out);
	const char *page;
} modes[] = {
	{ "settings", print_settings, "docs/settings.md, from the settings table" },
	{ NULL, NULL, NULL },
};

static int usage(void)
{
	fputs("Usage: slipway-docgen MODE\n\nModes:\n", stderr);
	for (const struct mode *m = modes; m->name; m++)
		fprintf(stderr, "  %-10s %s\n", m->name, m->page);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return usage();
	for (const struct mode *m = modes; m->name; m++) {
		if (strcmp(m->name, argv[1]))
			continue;
		m->print(stdout);
		if (fflush(stdout) || ferror(stdout)) {
			perror("slipway-docgen: cannot write the page");
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "error: unknown mode '%s'\n", argv[1]);
	return usage();
}
