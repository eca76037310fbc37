/*
 * addons.h - the records of a root's add-ons: what each one is, where it
 * listens, whose it is, and its credentials.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * An add-on is a server of its own (a PostgreSQL or a Redis; runtime/addon.h
 * runs it) living in <root>/addons/NAME/ (store/paths.h):
 *
 *     addon          the record, "key value" lines:
 *                        kind postgresql
 *                        port 30000
 *                        created 1764601234
 *                        app myapp          (the app that owns it; absent: none)
 *                        major 15           (the server's major version)
 *     credentials    the superuser's and the app's logins, mode 0600:
 *                        superuser slipway
 *                        superpassword 64 hex
 *                        user u8a3f...      (the login the apps' URLs hold now)
 *                        password 64 hex
 *                        database d5c1e...
 *                        owner o91b2...     (PostgreSQL: the role owning the
 *                                            database; absent: user, an add-on
 *                                            made with one login)
 *                        other u47c0...     (the second login, without a
 *                                            password; absent until the first
 *                                            rotation makes it)
 *                        next u47c0...      (a rotation under way: the login
 *                        nextpassword 64 hex the apps switch to, and its password)
 *     data/          the server's own files (the kind's)
 *
 * Both files are written temp + fsync + rename.  The record is written last
 * when an add-on is created and removed first when it is destroyed: an
 * add-on exists exactly when its record does (addons_list() skips a
 * directory without one, what a killed create left).  Names are Heroku's:
 * "postgresql-<adjective>-<number>", or one the user gave, checked by
 * addon_name_check().
 *
 *     struct addon a = ADDON_INIT;
 *     addon_name_generate(root, "postgresql", a.name, sizeof(a.name));
 *     ...
 *     addon_write(root, &a);
 *     addon_read(root, "postgresql-amber-12345", &a);
 */
#ifndef SW_ADDONS_H
#define SW_ADDONS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Longest add-on name; names match [a-z][a-z0-9-]{0,62}, no "--", no '-' last. */
#define ADDON_NAME_MAX 63

/* An add-on's record. */
struct addon {
	char name[ADDON_NAME_MAX + 1];
	char kind[32];     /* "postgresql" */
	int port;          /* its TCP port on 127.0.0.1 */
	int64_t created;   /* seconds since the epoch */
	char app[64];      /* the app that owns it, "" for none */
	int major;         /* the server's major version (PostgreSQL 15: 15) */
};
#define ADDON_INIT { .name = "" }

/*
 * Its logins: the superuser's (Slipway's own) and the apps'.  The apps
 * have two logins, used in turn (release/rotate.h): user, the one their
 * URLs hold, and other, kept without a password until a rotation gives it
 * one (next) and the apps switch to it.
 */
struct addon_credentials {
	char superuser[64];
	char superpassword[128];
	char user[64];
	char password[128];
	char database[64];
	char owner[64];         /* the role owning the database; "": user */
	char other[64];         /* the idle login; "": not made yet */
	char next[64];          /* a rotation under way: the login switched to; else "" */
	char nextpassword[128];
};

/* 1 if name is a valid add-on name. */
int addon_name_valid(const char *name);

/* Checks name: SW_EINVALID with a message that says what is allowed. */
int addon_name_check(const char *name);

/*
 * A fresh name "<kind>-<adjective>-<number>" (number 1000-99999) that no
 * add-on directory of the root has, into out (n bytes).  The caller
 * reserves it (runtime/addon.h creates its directory under the add-ons'
 * lock).  SW_ERROR when none was found after many tries.
 */
int addon_name_generate(const char *root, const char *kind, char *out, size_t n);

/*
 * size random bytes as 2*size lowercase hex digits, NUL-ended, into out
 * (2*size+1 bytes): passwords and role names.
 */
int addon_random_hex(char *out, size_t size);

/* Writes the record of a->name (its directory exists). */
int addon_write(const char *root, const struct addon *a);

/* Reads the record: SW_ENOTFOUND when there is no such add-on, SW_ERROR when unreadable. */
int addon_read(const char *root, const char *name, struct addon *a);

/* Writes the add-on's credentials file, mode 0600. */
int addon_credentials_write(const char *root, const char *name,
			    const struct addon_credentials *c);

/* Reads them: SW_ENOTFOUND when the file is missing. */
int addon_credentials_read(const char *root, const char *name, struct addon_credentials *c);

/*
 * The first line of the add-on's file (e.g. "data/PG_VERSION": the major
 * version its data was written by), malloc'ed; "none" when unreadable.
 */
char *addon_version_file(const char *root, const char *name, const char *file);

/* The names of the root's add-ons (those with a record), sorted, into out. */
int addons_list(const char *root, struct strvec *out);

/*
 * The names of the directories of <root>/addons without a record, sorted,
 * into out: creates in progress, or what a killed one left.
 */
int addons_list_unfinished(const char *root, struct strvec *out);

/*
 * Removes the add-on's record, then the rest of its directory: once this
 * starts, the add-on no longer exists.  A missing add-on is fine.
 */
int addon_remove(const char *root, const char *name);

#endif
