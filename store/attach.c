#define _GNU_SOURCE
#include "store/attach.h"

#include "store/config.h"
#include "util/error.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int attach_alias_valid(const char *alias)
{
	size_t n = strlen(alias);
	if (!n || n > ATTACH_ALIAS_MAX || alias[0] < 'A' || alias[0] > 'Z')
		return 0;
	return strspn(alias, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* An add-on's name: [a-z0-9-], starting with a letter. */
static int addon_valid(const char *addon)
{
	size_t n = strlen(addon);
	return n && n <= ATTACH_ADDON_MAX && addon[0] >= 'a' && addon[0] <= 'z' &&
	       strspn(addon, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Where alias is, or would go to keep them sorted; *found says which. */
static size_t position(const struct attachments *a, const char *alias, int *found)
{
	size_t i = 0;
	while (i < a->n && strcmp(a->v[i].alias, alias) < 0)
		i++;
	*found = i < a->n && !strcmp(a->v[i].alias, alias);
	return i;
}

int attach_add(struct attachments *a, const char *alias, const char *addon,
	       const struct strvec *vars)
{
	int found;
	if (!attach_alias_valid(alias))
		return sw_error_set(SW_EINVALID, "'%s' is not a valid attachment name: use "
				    "capital letters, digits and _, starting with a letter", alias);
	if (!addon_valid(addon))
		return sw_error_set(SW_EINVALID, "'%s' is not a valid add-on name", addon);
	for (size_t i = 0; vars && i < vars->n; i++) {
		const struct attachment *other = attach_managing(a, vars->v[i]);
		if (!config_key_valid(vars->v[i]))
			return sw_error_set(SW_EINVALID, "'%s' is not a valid config var name",
					    vars->v[i]);
		if (other)
			return sw_error_set(SW_EEXISTS, "%s is managed by %s (attached as %s)",
					    vars->v[i], other->addon, other->alias);
	}
	size_t at = position(a, alias, &found);
	if (found)
		return sw_error_set(SW_EEXISTS, "%s is attached already (%s)", alias, a->v[at].addon);
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	memmove(&a->v[at + 1], &a->v[at], (a->n - at) * sizeof(*a->v));
	struct attachment *at_new = &a->v[at];
	memset(at_new, 0, sizeof(*at_new));
	snprintf(at_new->alias, sizeof(at_new->alias), "%s", alias);
	snprintf(at_new->addon, sizeof(at_new->addon), "%s", addon);
	for (size_t i = 0; vars && i < vars->n; i++)
		strvec_push(&at_new->vars, vars->v[i]);
	strvec_sort(&at_new->vars);
	a->n++;
	return 0;
}

int attach_remove(struct attachments *a, const char *alias)
{
	int found;
	size_t at = position(a, alias, &found);
	if (!found)
		return 0;
	strvec_clear(&a->v[at].vars);
	memmove(&a->v[at], &a->v[at + 1], (a->n - at - 1) * sizeof(*a->v));
	a->n--;
	return 1;
}

const struct attachment *attach_find(const struct attachments *a, const char *alias)
{
	int found;
	size_t at = position(a, alias, &found);
	return found ? &a->v[at] : NULL;
}

const struct attachment *attach_managing(const struct attachments *a, const char *key)
{
	for (size_t i = 0; i < a->n; i++)
		if (strvec_has_sorted(&a->v[i].vars, key))
			return &a->v[i];
	return NULL;
}

void attach_copy(struct attachments *dst, const struct attachments *src)
{
	for (size_t i = 0; i < src->n; i++)
		attach_add(dst, src->v[i].alias, src->v[i].addon, &src->v[i].vars);
}

int attach_equal(const struct attachments *a, const struct attachments *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct attachment *x = &a->v[i], *y = &b->v[i];
		if (strcmp(x->alias, y->alias) || strcmp(x->addon, y->addon) ||
		    x->vars.n != y->vars.n)
			return 0;
		for (size_t k = 0; k < x->vars.n; k++)
			if (strcmp(x->vars.v[k], y->vars.v[k]))
				return 0;
	}
	return 1;
}

void attach_release(struct attachments *a)
{
	for (size_t i = 0; i < a->n; i++)
		strvec_clear(&a->v[i].vars);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

void attach_format(const struct attachment *at, struct buf *out)
{
	buf_addf(out, "addon %s\n", at->addon);
	for (size_t i = 0; i < at->vars.n; i++)
		buf_addf(out, "var %s\n", at->vars.v[i]);
}

int attach_parse(struct attachments *a, const char *alias, const char *data, size_t len)
{
	char *text = xstrndup(data, len), *save = NULL, *addon = NULL;
	struct strvec vars = STRVEC_INIT;
	int err = 0;
	for (char *line = strtok_r(text, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "addon ", 6) && !addon)
			addon = line + 6;
		else if (!strncmp(line, "var ", 4))
			strvec_push(&vars, line + 4);
		else
			err = sw_error_set(SW_EINVALID, "the attachment %s has a bad line: %.40s", alias,
					   line);
	}
	if (!err && !addon)
		err = sw_error_set(SW_EINVALID, "the attachment %s names no add-on", alias);
	if (!err)
		err = attach_add(a, alias, addon, &vars);
	strvec_clear(&vars);
	free(text);
	return err;
}
