#include "store/config.h"

#include "util/util.h"

#include <stdlib.h>
#include <string.h>

int config_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > CONFIG_KEY_MAX)
		return 0;
	if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') ||
	      (key[0] >= 'a' && key[0] <= 'z')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = key[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* Index of key, or -(insertion point) - 1. */
static long find(const struct config *c, const char *key)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(c->items[mid].key, key);
		if (cmp == 0)
			return (long)mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

void config_set(struct config *c, const char *key, const char *value)
{
	long i = find(c, key);
	if (i >= 0) {
		free(c->items[i].value);
		c->items[i].value = xstrdup(value);
		return;
	}
	size_t at = (size_t)(-i - 1);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->items = xrealloc(c->items, c->cap * sizeof(*c->items));
	}
	memmove(c->items + at + 1, c->items + at, (c->n - at) * sizeof(*c->items));
	c->items[at].key = xstrdup(key);
	c->items[at].value = xstrdup(value);
	c->n++;
}

int config_unset(struct config *c, const char *key)
{
	long i = find(c, key);
	if (i < 0)
		return 0;
	free(c->items[i].key);
	free(c->items[i].value);
	memmove(c->items + i, c->items + i + 1, (c->n - (size_t)i - 1) * sizeof(*c->items));
	c->n--;
	return 1;
}

const char *config_get(const struct config *c, const char *key)
{
	long i = find(c, key);
	return i >= 0 ? c->items[i].value : NULL;
}

void config_copy(struct config *dst, const struct config *src)
{
	for (size_t i = 0; i < src->n; i++)
		config_set(dst, src->items[i].key, src->items[i].value);
}

int config_equal(const struct config *a, const struct config *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i].key, b->items[i].key) ||
		    strcmp(a->items[i].value, b->items[i].value))
			return 0;
	return 1;
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].key);
		free(c->items[i].value);
	}
	free(c->items);
	c->items = NULL;
	c->n = c->cap = 0;
}
