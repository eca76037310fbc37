/*
 * slipway-docgen - prints a reference page of the documentation from the
 * tables it documents, so the two cannot drift apart:
 *
 *     slipway-docgen commands > docs/commands.md
 *     slipway-docgen settings > docs/settings.md
 *
 * MODE names the page (modes[] below; a new page is one function and one
 * row).  The page goes to stdout; exit 0, 1 when it cannot be written, 2
 * for an unknown MODE.  Not installed: the build and the docs tests run it.
 */
#include "cli/cli.h"

#include "store/settings.h"

#include <stdio.h>
#include <string.h>

/* s in a table cell: '|' escaped, each '\n' a space. */
static void put_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s == '\n' ? ' ' : *s, out);
	}
}

/* The anchor a markdown renderer gives the heading "## NAME": no ':' (apps:create -> appscreate). */
static void put_anchor(FILE *out, const char *name)
{
	for (; *name; name++)
		if (*name != ':')
			fputc(*name, out);
}

static void commands_summary(FILE *out)
{
	fputs("| command | what it does | over ssh |\n|---|---|---|\n", out);
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		fprintf(out, "| [`%s`](#", c->name);
		put_anchor(out, c->name);
		fputs(") | ", out);
		put_cell(out, c->help);
		fprintf(out, " | %s |\n", c->flags & CMD_REMOTE ? "yes" : "");
	}
}

/* docs/commands.md: each visible command of cli_commands[] as its --help shows it. */
static void print_commands(FILE *out)
{
	fputs("# Commands\n\n"
	      "<!-- Made by slipway-docgen from the command table (cli/commands.c): do not\n"
	      "edit. Change the table, then run: build/slipway-docgen commands > docs/commands.md -->\n\n"
	      "Every command, as `slipway COMMAND --help` shows it. `slipway help` lists\n"
	      "them; commands marked \"over ssh\" are the ones users with access to an app\n"
	      "may run through `ssh git@host` or the `slipway` command on their machine\n"
	      "([install.md](install.md#pushing-over-ssh)), the others are the operator's.\n"
	      "What every command shares (`-a`, versions, exit statuses) is in\n"
	      "[releases.md](releases.md#the-command-line); what the commands do, in\n"
	      "[releases.md](releases.md), [runtime.md](runtime.md),\n"
	      "[buildpacks.md](buildpacks.md) and [operations.md](operations.md).\n\n",
	      out);
	commands_summary(out);
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		fprintf(out, "\n## %s\n\n```\n", c->name);
		cli_print_help(out, c, 0);
		fputs("```\n", out);
	}
}

/* docs/settings.md: the rows of the settings table (store/settings.c writes them). */
static void print_settings(FILE *out)
{
	settings_write_reference(out);
}

static const struct mode {
	const char *name;
	void (*print)(FILE *out);
	const char *page;
} modes[] = {
	{ "commands", print_commands, "docs/commands.md, from the command table" },
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
