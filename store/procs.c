#include "store/procs.h"

#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int proc_name_valid_n(const char *s, size_t n)
{
	if (n < 1 || n > PROC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return 0;
	return 1;
}

int proc_name_valid(const char *name)
{
	return name && proc_name_valid_n(name, strlen(name));
}

struct proc_type *proc_list_find(const struct proc_list *l, size_t from, const char *name)
{
	for (size_t i = from; i < l->n; i++)
		if (!strcmp(l->items[i].name, name))
			return &l->items[i];
	return NULL;
}

void proc_list_append(struct proc_list *l, char *name, char *command)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n].name = name;
	l->items[l->n].command = command;
	l->n++;
}

void proc_list_set(struct proc_list *l, const char *name, const char *command)
{
	struct proc_type *t = proc_list_find(l, 0, name);

	if (t) {
		char *old = t->command;
		t->command = xstrdup(command);
		free(old);
		return;
	}
	proc_list_append(l, xstrdup(name), xstrdup(command));
}

const char *proc_list_get(const struct proc_list *l, const char *name)
{
	struct proc_type *t = proc_list_find(l, 0, name);
	return t ? t->command : NULL;
}

void proc_list_truncate(struct proc_list *l, size_t n)
{
	while (l->n > n) {
		l->n--;
		free(l->items[l->n].name);
		free(l->items[l->n].command);
	}
}

void proc_list_release(struct proc_list *l)
{
	proc_list_truncate(l, 0);
	free(l->items);
	l->items = NULL;
	l->cap = 0;
}
