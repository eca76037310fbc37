/*
 * The manual pages (docs/slipway.1.sh, docs/slipway-topic.1.sh): the
 * build makes slipway(1), which man renders with its NAME section and
 * both references, and slipway-TOPIC(1) for each command topic, which man
 * renders without a warning, listing every option of its commands' --help.
 */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* man -l, else groff or mandoc where man is missing: the page as a reader sees it. */
static const char render[] =
	"if command -v man >/dev/null; then MANWIDTH=80 man --warnings -l \"$0\";"
	" elif command -v groff >/dev/null; then groff -t -man -Tutf8 \"$0\";"
	" else mandoc -Tutf8 \"$0\"; fi";

static struct th_result rendered;

/* The page at path as man shows it: it renders without a word on stderr. */
static struct th_result render_page(const char *path)
{
	cr_assert_eq(access(path, R_OK), 0, "no manual page at %s", path);
	struct th_result r = th_runv(NULL, NULL, "sh", "-c", render, path, NULL);
	cr_assert_eq(r.status, 0, "rendering %s failed: %s", path, r.err);
	cr_assert_str_empty(r.err, "rendering %s warned: %s", path, r.err);
	return r;
}

static void setup(void)
{
	rendered = render_page(SLIPWAY_MAN_DIR "/slipway.1");
}

static void teardown(void)
{
	th_result_free(&rendered);
	th_keep_free();
}

TestSuite(man, .init = setup, .fini = teardown);

Test(man, renders_its_name_section)
{
	cr_assert(strstr(rendered.out, "\nNAME\n"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "slipway - Heroku-style releases on your own server"), "%s",
		  rendered.out);
}

Test(man, holds_the_command_and_settings_references)
{
	cr_assert(strstr(rendered.out, "\nCOMMANDS\n"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "config:set"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "\nSETTINGS\n"), "%s", rendered.out);
	cr_assert(strstr(rendered.out, "slipway.compileTimeout"), "%s", rendered.out);
}

Test(man, names_the_topic_pages)
{
	cr_assert(strstr(rendered.out, "slipway-releases(1)"), "%s", rendered.out);
}

/* The topic of a command: its name up to the first ':'. */
static char *topic_of(const char *name)
{
	return th_keep(strndup(name, strcspn(name, ":")));
}

/* The words of a command's --help's options: "-a" "--app" ... */
static size_t help_words(const char *name, char **words, size_t max)
{
	struct th_result r = th_runv(NULL, NULL, SLIPWAY_BIN, name, "--help", NULL);
	cr_assert_eq(r.status, 0, "%s --help: %s", name, r.err);
	size_t n = 0;
	const char *p = strstr(r.out, "\nOptions:\n");
	cr_assert(p, "%s", r.out);
	for (p += 10; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
		if (strncmp(p, "  -", 3))
			continue;
		/* "  -a, --app APP      text": the left column's words that start with '-' */
		const char *end = strstr(p + 2, "  ");
		for (const char *q = p + 2; q < end; q += strspn(q, ", ")) {
			size_t len = strcspn(q, " ,\n");
			if (*q == '-' && n < max)
				words[n++] = th_keep(strndup(q, len));
			q += len;
		}
	}
	th_result_free(&r);
	return n;
}

/* 1 if word stands alone in s[0 .. len): a blank before it, a blank or ',' after. */
static int has_word(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), word, n)); p++)
		if (p > s && (p[-1] == ' ' || p[-1] == '\n') && strchr(" ,\n", p[n]))
			return 1;
	return 0;
}

/*
 * The command's section of a rendered topic page, its heading to the next
 * heading, with each run of blanks one space (man justifies lines).
 */
static const char *section_of(const char *page, const char *name, size_t *len)
{
	char *heading = th_keep(th_path("\n   %s\n", name));
	const char *at = strstr(page, heading);
	cr_assert(at, "no section %s in %s", name, page);
	const char *end = at + strlen(heading);
	while (*end && !(end[0] == '\n' && ((end[1] == ' ' && end[4] != ' ') || end[1] > ' ')))
		end++;
	char *sec = th_keep(strndup(at, (size_t)(end - at)));
	size_t n = 0;
	for (const char *p = sec; *p; p++)
		if (!(*p == ' ' && n && sec[n - 1] == ' '))
			sec[n++] = *p;
	sec[n] = '\0';
	*len = n;
	return sec;
}

/* The rendered page of topic, rendered once: pages[] holds those seen. */
static const char *page_of(struct th_result *pages, char **topics, size_t *n, const char *topic)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(topics[i], topic))
			return pages[i].out;
	char *path = th_keep(th_path("%s/slipway-%s.1", SLIPWAY_MAN_DIR, topic));
	pages[*n] = render_page(path);
	topics[*n] = strdup(topic);
	const char *out = pages[(*n)++].out;
	char *title = th_keep(th_path("slipway-%s(1)", topic));
	cr_assert(strstr(out, title), "%s: %s", path, out);
	cr_assert(strstr(out, "\nSEE ALSO\n") && strstr(out, "slipway(1)"), "%s", out);
	return out;
}

Test(man, each_topic_has_a_page_with_every_option_of_its_commands)
{
	struct th_result pages[64];
	char *topics[64];
	size_t n_pages = 0;
	for (const struct cmd *c = cli_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		cr_assert_lt(n_pages, 64);
		const char *page = page_of(pages, topics, &n_pages, topic_of(c->name));
		/* its section: the command's usage and help, then its options */
		size_t len;
		const char *sec = section_of(page, c->name, &len);
		char *usage = th_keep(th_path("slipway %s", c->name));
		cr_assert(has_word(sec, len, usage), "no %s in %s", usage, sec);
		char *words[64];
		size_t n = help_words(c->name, words, 64);
		cr_assert(n > 0, "%s --help lists no options", c->name);
		for (size_t i = 0; i < n; i++)
			cr_assert(has_word(sec, len, words[i]), "%s of %s is missing: %s", words[i],
				  c->name, sec);
		th_keep_free(); /* what this command's check kept */
	}
	cr_assert_gt(n_pages, 20);
	for (size_t i = 0; i < n_pages; i++) {
		th_result_free(&pages[i]);
		free(topics[i]);
	}
}

Test(man, a_page_with_a_roff_mistake_is_caught)
{
	/* the control: what the pages are checked for is something man reports */
	char *dir = th_sandbox();
	char *path = th_path("%s/bad.1", dir);
	th_write(path, ".TH BAD 1\n.SH NAME\n.XY bad \\- a mistake\n", 0644);
	struct th_result r = th_runv(NULL, NULL, "sh", "-c", render, path, NULL);
	cr_assert_str_not_empty(r.err, "%s", r.out);
	th_result_free(&r);
	free(path);
	th_sandbox_free(dir);
}
