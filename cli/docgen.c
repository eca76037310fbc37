/*
 * slipway-docgen - prints a reference page of the documentation from the
 * tables it documents, so the two cannot drift apart:
 *
 *     slipway-docgen commands > docs/commands.md
 *     slipway-docgen settings > docs/settings.md
 *     slipway-docgen topics             the command topics, one a line
 *     slipway-docgen man TOPIC          the markdown of slipway-TOPIC(1)
 *
 * MODE names the page (modes[] below; a new page is one function and one
 * row).  The page goes to stdout; exit 0, 1 when it cannot be written, 2
 * for an unknown MODE or TOPIC.  Not installed: the build and the docs
 * tests run it (docs/slipway-topic.1.sh makes the topics' manual pages).
 *
 * A command's topic is its name up to the first ':' (releases:info is
 * in releases); each topic that has a visible command has a page.
 */
#include "cli/cli.h"

#include "store/settings.h"

#include <stdio.h>
#include <string.h>

/* 1 if cmd is a visible command of topic. */
static int in_topic(const struct cmd *cmd, const char *topic)
{
	size_t n = strcspn(cmd->name, ":");
	return !(cmd->flags & CMD_HIDDEN) && strlen(topic) == n && !strncmp(cmd->name, topic, n);
}

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
static int print_commands(FILE *out, const char *arg)
{
	(void)arg;
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
	      "[buildpacks.md](buildpacks.md) and [operations.md](operations.md).\n"
	      "The same table makes the manual pages (`man slipway-releases`: one page per\n"
	      "topic, the part of a name before its `:`) and the bash completion of\n"
	      "[`slipway completion bash`](#completion).\n\n",
	      out);
	commands_summary(out);
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		fprintf(out, "\n## %s\n\n```\n", c->name);
		cli_print_help(out, c, 0);
		fputs("```\n", out);
	}
	return 0;
}

/* docs/settings.md: the rows of the settings table (store/settings.c writes them). */
static int print_settings(FILE *out, const char *arg)
{
	(void)arg;
	settings_write_reference(out);
	return 0;
}

/* 1 if a visible command before c has c's topic. */
static int topic_seen(const struct cmd *c)
{
	size_t n = strcspn(c->name, ":");
	for (const struct cmd *p = cli_commands; p != c; p++)
		if (!(p->flags & CMD_HIDDEN) && strcspn(p->name, ":") == n &&
		    !strncmp(p->name, c->name, n))
			return 1;
	return 0;
}

/* Each topic of a visible command, once, in the table's order. */
static int print_topics(FILE *out, const char *arg)
{
	(void)arg;
	for (const struct cmd *c = cli_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN) && !topic_seen(c))
			fprintf(out, "%.*s\n", (int)strcspn(c->name, ":"), c->name);
	return 0;
}

/* s as markdown text: the characters markdown reads escaped, each '\n' a space. */
static void put_md(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\`*_[]<>|#!", *s))
			fputc('\\', out);
		fputc(*s == '\n' ? ' ' : *s, out);
	}
}

/* "**slipway NAME** SYNOPSIS", a paragraph. */
static void put_synopsis(FILE *out, const struct cmd *c)
{
	fputs("**slipway ", out);
	put_md(out, c->name);
	fputs("**", out);
	if (*c->synopsis) {
		fputc(' ', out);
		put_md(out, c->synopsis);
	}
	fputs("\n\n", out);
}

/* c's options as its --help lists them, a definition list: "**-a**, **--app** *APP*". */
static void put_options(FILE *out, const struct cmd *c)
{
	const struct opt *groups[4];
	cli_option_groups(c, groups);
	for (size_t g = 0; groups[g]; g++) {
		for (const struct opt *o = groups[g]; o->kind != OPT_KIND_END; o++) {
			if (o->flags & OPT_HIDDEN)
				continue;
			if (o->short_name)
				fprintf(out, "**-%c**%s", o->short_name, o->long_name ? ", " : "");
			if (o->long_name) {
				fputs("**--", out);
				put_md(out, o->long_name);
				fputs("**", out);
			}
			if (o->value_name) {
				fputs(" *", out);
				put_md(out, o->value_name);
				fputc('*', out);
			}
			fputs("\n: ", out);
			put_md(out, o->help ? o->help : "");
			fputs("\n\n", out);
		}
	}
}

/* The markdown of slipway-TOPIC(1): each of the topic's commands as --help shows it. */
static int print_man(FILE *out, const char *topic)
{
	const struct cmd *c;
	for (c = cli_commands; c->name && !in_topic(c, topic); c++)
		;
	if (!c->name) {
		fprintf(stderr, "error: no command has the topic '%s'\n", topic);
		return 2;
	}
	fprintf(out, "title: slipway-%s\nsection: 1\nsource: Slipway\nvolume: User Commands\n\n",
		topic);
	fprintf(out, "# NAME\n\nslipway-%s - Slipway's %s commands\n\n# SYNOPSIS\n\n", topic,
		topic);
	for (c = cli_commands; c->name; c++)
		if (in_topic(c, topic))
			put_synopsis(out, c);
	fputs("# COMMANDS\n", out);
	for (c = cli_commands; c->name; c++) {
		if (!in_topic(c, topic))
			continue;
		fputs("\n## ", out);
		put_md(out, c->name);
		fputs("\n\n", out);
		put_synopsis(out, c);
		put_md(out, c->help);
		fputs("\n\n", out);
		put_options(out, c);
	}
	fputs("# SEE ALSO\n\n**slipway**(1), *slipway help*, *slipway COMMAND --help*\n", out);
	return 0;
}

static const struct mode {
	const char *name;
	int (*print)(FILE *out, const char *arg);
	const char *arg;  /* the argument the mode takes, NULL: none */
	const char *page;
} modes[] = {
	{ "commands", print_commands, NULL, "docs/commands.md, from the command table" },
	{ "settings", print_settings, NULL, "docs/settings.md, from the settings table" },
	{ "topics", print_topics, NULL, "the command topics, one a line" },
	{ "man", print_man, "TOPIC", "the markdown of the manual page slipway-TOPIC(1)" },
	{ NULL, NULL, NULL, NULL },
};

static int usage(void)
{
	fputs("Usage: slipway-docgen MODE [ARG]\n\nModes:\n", stderr);
	for (const struct mode *m = modes; m->name; m++) {
		char left[32];
		snprintf(left, sizeof(left), "%s %s", m->name, m->arg ? m->arg : "");
		fprintf(stderr, "  %-14s %s\n", left, m->page);
	}
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	for (const struct mode *m = modes; m->name; m++) {
		if (strcmp(m->name, argv[1]))
			continue;
		if (argc != (m->arg ? 3 : 2))
			return usage();
		int rc = m->print(stdout, argv[2]);
		if (fflush(stdout) || ferror(stdout)) {
			perror("slipway-docgen: cannot write the page");
			return 1;
		}
		return rc;
	}
	fprintf(stderr, "error: unknown mode '%s'\n", argv[1]);
	return usage();
}
