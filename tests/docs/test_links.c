/*
 * The documentation holds together: every relative link of README.md,
 * HACKING.md and the pages of docs/ names a file that exists and, after '#', a
 * heading of that file; and the README stays a short front door.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The anchor a markdown renderer makes of a heading's text: lowercase, [a-z0-9_-], spaces as '-'. */
static char *anchor_of(const char *h, size_t n)
{
	char *a = malloc(n + 1), *p = a;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (isalnum(c) || c == '_' || c == '-')
			*p++ = (char)tolower(c);
		else if (c == ' ')
			*p++ = '-';
	}
	*p = '\0';
	return a;
}

/* Whether the markdown text has a heading whose anchor is frag. */
static int has_anchor(const char *text, const char *frag)
{
	int code = 0, found = 0;
	for (const char *l = text; *l && !found; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		size_t n = strcspn(l, "\n");
		if (!strncmp(l, "```", 3))
			code = !code;
		if (code || *l != '#')
			continue;
		const char *h = l + strspn(l, "#");
		if (*h != ' ')
			continue;
		h++;
		char *a = anchor_of(h, n - (size_t)(h - l));
		found = !strcmp(a, frag);
		free(a);
	}
	return found;
}

/* The text without its fenced code blocks (links there are examples, not links). */
static char *prose(const char *text)
{
	char *out = strdup(text), *o = out;
	int code = 0;
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		int fence = !strncmp(l, "```", 3);
		if (!code && !fence) {
			memcpy(o, l, n);
			o += n;
			*o++ = '\n';
		}
		code ^= fence;
		l += n + (l[n] == '\n');
	}
	*o = '\0';
	return out;
}

/* Asserts every relative link of the file at rel (from the source root). */
static void check_links(const char *rel)
{
	char *path = th_path("%s/%s", SOURCE_DIR, rel);
	char *text = th_read(path, NULL);
	cr_assert(text, "cannot read %s", path);
	char *dir = strdup(rel);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[1] = '\0';
	else
		dir[0] = '\0';
	char *body = prose(text);
	for (const char *p = body; (p = strstr(p, "](")); p++) {
		p += 2;
		size_t n = strcspn(p, ") \n");
		char *link = strndup(p, n);
		if (strstr(link, "://") || !strncmp(link, "mailto:", 7)) {
			free(link);
			continue;
		}
		char *frag = strchr(link, '#');
		if (frag)
			*frag++ = '\0';
		char *target = *link ? th_path("%s/%s%s", SOURCE_DIR, dir, link) : strdup(path);
		cr_assert_eq(access(target, F_OK), 0, "%s: link '%s' names no file", rel, link);
		if (frag) {
			char *ttext = th_read(target, NULL);
			cr_assert(ttext && has_anchor(ttext, frag), "%s: link '%s#%s' names no heading",
				  rel, link, frag);
			free(ttext);
		}
		free(target);
		free(link);
	}
	free(body);
	free(dir);
	free(text);
	free(path);
}

Test(links, every_relative_link_names_a_file_and_a_heading)
{
	check_links("README.md");
	check_links("HACKING.md");
	char *docs = th_path("%s/docs", SOURCE_DIR);
	DIR *d = opendir(docs);
	cr_assert(d, "cannot open %s", docs);
	int pages = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 3, ".md"))
			continue;
		char *rel = th_path("docs/%s", e->d_name);
		check_links(rel);
		free(rel);
		pages++;
	}
	closedir(d);
	free(docs);
	cr_assert_geq(pages, 9, "only %d pages in docs/", pages);
}

Test(links, a_broken_link_is_found)
{
	cr_assert(has_anchor("# Top\n\n## Where builds run\n", "where-builds-run"));
	cr_assert(has_anchor("## apps:create\n", "appscreate"));
	cr_assert_not(has_anchor("```\n# not a heading\n```\n", "not-a-heading"));
	cr_assert_not(has_anchor("## Where builds run\n", "where-builds-go"));
}

Test(links, the_readme_is_under_250_lines)
{
	char *path = th_path("%s/README.md", SOURCE_DIR);
	char *text = th_read(path, NULL);
	cr_assert(text);
	int lines = th_count(text, "");
	cr_assert_lt(lines, 250, "README.md has %d lines: move the detail into docs/", lines);
	free(text);
	free(path);
}
