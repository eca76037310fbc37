/*
 * procs.h - process types: the "web: ./server" pairs a release runs.
 *
 * Part of store/: uses only util/; prints nothing.
 *
 * A release keeps its process types as an ordered list (order of first
 * appearance).  Type names match [A-Za-z0-9_-]{1,63}.  Where they come
 * from - the Procfile, a buildpack's bin/release - is the builder's
 * business (builder/procfile.h); this is only the list.
 *
 *     struct proc_list l = PROC_LIST_INIT;
 *     proc_list_set(&l, "web", "./server");
 *     puts(proc_list_get(&l, "web"));
 *     proc_list_release(&l);
 */
#ifndef SW_PROCS_H
#define SW_PROCS_H

#include <stddef.h>

#define PROC_NAME_MAX 63

struct proc_type {
	char *name;
	char *command;
};

struct proc_list {
	struct proc_type *items;
	size_t n;
	size_t cap;
};
#define PROC_LIST_INIT { 0 }

/* 1 if name is a valid process type name. */
int proc_name_valid(const char *name);

/* 1 if the n bytes at s are a valid process type name. */
int proc_name_valid_n(const char *s, size_t n);

/* Sets name's command (replacing an existing one, else appending). */
void proc_list_set(struct proc_list *l, const char *name, const char *command);

/* The command for name, or NULL. */
const char *proc_list_get(const struct proc_list *l, const char *name);

/* The entry for name among items from index `from` on, or NULL. */
struct proc_type *proc_list_find(const struct proc_list *l, size_t from, const char *name);

/* Appends name and command, taking ownership of both (malloc'ed). */
void proc_list_append(struct proc_list *l, char *name, char *command);

/* Drops the items from index n on. */
void proc_list_truncate(struct proc_list *l, size_t n);

void proc_list_release(struct proc_list *l);

#endif
