/*
 * attach.h - a release's add-on attachments: which add-on an app reaches
 * under which alias, and the config vars that attachment manages.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * An attachment "DATABASE" of the add-on "postgresql-amber-12" manages
 * the config var DATABASE_URL: the release's config holds its value (so
 * processes get it like any other var), the attachment says it is the
 * add-on's.  The user's config:set and config:unset leave such vars alone,
 * and a rollback keeps the current attachments and their vars' current
 * values (release/change.h).  The ledger (ledger.h) stores each
 * attachment as the blob addons/<ALIAS>, written by attach_format():
 *
 *     addon postgresql-amber-12
 *     var DATABASE_URL
 *
 * Aliases are config-var-like names ([A-Z][A-Z0-9_]*, at most
 * ATTACH_ALIAS_MAX bytes); attachments are kept sorted by alias.
 */
#ifndef SW_ATTACH_H
#define SW_ATTACH_H

#include <stddef.h>

#include "util/util.h"

#define ATTACH_ALIAS_MAX 63
#define ATTACH_ADDON_MAX 127

struct attachment {
	char alias[ATTACH_ALIAS_MAX + 1];
	char addon[ATTACH_ADDON_MAX + 1];
	struct strvec vars; /* the config vars it manages, sorted */
};

struct attachments {
	struct attachment *v;
	size_t n;
};
#define ATTACHMENTS_INIT { 0 }

/* 1 if alias is a valid attachment name ("DATABASE", "HEROKU_POSTGRESQL_RED"). */
int attach_alias_valid(const char *alias);

/*
 * Adds an attachment of addon as alias managing vars (copied; may be
 * NULL).  SW_EINVALID for a bad alias, add-on name or var name; SW_EEXISTS
 * when alias is attached already, or one of vars is another attachment's.
 */
int attach_add(struct attachments *a, const char *alias, const char *addon,
	       const struct strvec *vars);

/* Removes the attachment alias; 1 if it was there. */
int attach_remove(struct attachments *a, const char *alias);

/* The attachment named alias, or NULL. */
const struct attachment *attach_find(const struct attachments *a, const char *alias);

/* The attachment that manages the config var key, or NULL: the user's own var. */
const struct attachment *attach_managing(const struct attachments *a, const char *key);

/* Deep copy of src into dst (dst must be empty). */
void attach_copy(struct attachments *dst, const struct attachments *src);

/* 1 if a and b hold the same attachments (aliases, add-ons and vars). */
int attach_equal(const struct attachments *a, const struct attachments *b);

void attach_release(struct attachments *a);

/* Appends the ledger blob of one attachment to out. */
void attach_format(const struct attachment *at, struct buf *out);

/* Parses the blob of the attachment alias into a; SW_EINVALID if malformed. */
int attach_parse(struct attachments *a, const char *alias, const char *data, size_t len);

#endif
