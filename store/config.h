/*
 * config.h - config vars: an ordered set of KEY=value pairs.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * Keys match [A-Za-z_][A-Za-z0-9_]* (at most CONFIG_KEY_MAX bytes).  Values
 * are arbitrary bytes except NUL (at most CONFIG_VALUE_MAX bytes) and are
 * kept exactly.  Entries are kept sorted by key (byte order).
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stddef.h>

#define CONFIG_KEY_MAX 255
#define CONFIG_VALUE_MAX (64 * 1024)

struct config_var {
	char *key;
	char *value;
};

struct config {
	struct config_var *items;
	size_t n;
	size_t cap;
};
#define CONFIG_INIT { 0 }

/* 1 if key is a valid config var name. */
int config_key_valid(const char *key);

/* Sets key (copied) to value (copied); replaces an existing value. */
void config_set(struct config *c, const char *key, const char *value);

/* Removes key; returns 1 if it was there. */
int config_unset(struct config *c, const char *key);

/* The value of key, or NULL. */
const char *config_get(const struct config *c, const char *key);

/* Deep copy of src into dst (dst must be empty). */
void config_copy(struct config *dst, const struct config *src);

/* 1 if a and b hold the same keys and values. */
int config_equal(const struct config *a, const struct config *b);

void config_release(struct config *c);

#endif
