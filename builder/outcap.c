#define _GNU_SOURCE
#include "builder/outcap.h"

#include "util/util.h"

#include <stdlib.h>
#include <string.h>

void outcap_init(struct outcap *c, uint64_t max)
{
	*c = (struct outcap)OUTCAP_INIT;
	c->head_max = max ? (max + 1) / 2 : 0;
	c->tail_max = (size_t)(max / 2);
}

/* Drops the ring's n oldest bytes. */
static void drop_oldest(struct outcap *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->cut_lines += c->ring[(c->start + i) % c->tail_max] == '\n';
	c->start = (c->start + n) % c->tail_max;
	c->len -= n;
	c->cut_bytes += n;
}

/* Drops the n bytes of buf, never held. */
static void drop(struct outcap *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->cut_lines += buf[i] == '\n';
	c->cut_bytes += n;
}

static void hold(struct outcap *c, const char *buf, size_t n)
{
	if (!c->tail_max) {
		drop(c, buf, n);
		return;
	}
	if (!c->ring)
		c->ring = xmalloc(c->tail_max);
	if (n > c->tail_max) { /* only its end can stay */
		drop_oldest(c, c->len);
		drop(c, buf, n - c->tail_max);
		buf += n - c->tail_max;
		n = c->tail_max;
	}
	if (c->len + n > c->tail_max)
		drop_oldest(c, c->len + n - c->tail_max);
	for (size_t i = 0; i < n; i++)
		c->ring[(c->start + c->len + i) % c->tail_max] = buf[i];
	c->len += n;
}

size_t outcap_take(struct outcap *c, const char *buf, size_t n)
{
	if (!c->head_max || (!c->holding && c->passed + n <= c->head_max)) {
		c->passed += n;
		return n;
	}
	c->holding = 1;
	hold(c, buf, n);
	return 0;
}

void outcap_finish(struct outcap *c, const char **tail, size_t *len)
{
	*tail = "";
	*len = 0;
	if (!c->len)
		return;
	if (c->start) { /* make the ring one run of bytes */
		char *flat = xmalloc(c->tail_max);
		for (size_t i = 0; i < c->len; i++)
			flat[i] = c->ring[(c->start + i) % c->tail_max];
		free(c->ring);
		c->ring = flat;
		c->start = 0;
	}
	size_t skip = 0;
	if (c->cut_bytes) { /* the first line was cut in part: it goes too */
		char *nl = memchr(c->ring, '\n', c->len);
		skip = nl ? (size_t)(nl - c->ring) + 1 : c->len;
		c->cut_bytes += skip;
		c->cut_lines += nl != NULL;
	}
	*tail = c->ring + skip;
	*len = c->len - skip;
}

void outcap_release(struct outcap *c)
{
	free(c->ring);
	c->ring = NULL;
	c->len = c->start = 0;
}
