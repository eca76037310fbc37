#include "view/addons.h"

#include "view/view.h"

#include "util/json.h"
#include "util/units.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* "postgresql 15" */
static void kind_major(struct buf *out, const struct addon *a)
{
	if (a->major)
		buf_addf(out, "%s %d", a->kind, a->major);
	else
		buf_adds(out, a->kind);
}

static size_t widest(size_t w, const char *s)
{
	size_t n = strlen(s);
	return n > w ? n : w;
}

/* The " └─ as ALIAS" lines of s ("APP::ALIAS" each). */
static void attachment_lines(struct buf *out, const struct addon_shown *s, const char *app,
			     size_t indent)
{
	for (size_t i = 0; i < s->attachments.n; i++) {
		const char *at = s->attachments.v[i], *sep = strstr(at, "::");
		if (!sep)
			continue;
		size_t applen = (size_t)(sep - at);
		buf_addf(out, "%*s └─ as %s", (int)indent, "", sep + 2);
		/* to the app listed, or to its owner in a listing of every app: no need to say */
		const char *here = app ? app : s->a.app;
		if (strlen(here) != applen || strncmp(here, at, applen))
			buf_addf(out, " on %.*s", (int)applen, at);
		buf_adds(out, "\n");
	}
}

void view_addons_table(struct buf *out, const struct addon_shown *v, size_t n, const char *app)
{
	size_t wowner = strlen("Owning App"), wname = strlen("Add-on"), wkind = strlen("Kind");
	struct buf kind = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_reset(&kind);
		kind_major(&kind, &v[i].a);
		wowner = widest(wowner, v[i].a.app[0] ? v[i].a.app : "-");
		wname = widest(wname, v[i].a.name);
		wkind = widest(wkind, kind.data);
	}
	if (!app)
		buf_addf(out, "%-*s  ", (int)wowner, "Owning App");
	buf_addf(out, "%-*s  %-*s  %s\n", (int)wname, "Add-on", (int)wkind, "Kind", "State");
	for (size_t i = 0; i < n; i++) {
		buf_reset(&kind);
		kind_major(&kind, &v[i].a);
		if (!app)
			buf_addf(out, "%-*s  ", (int)wowner, v[i].a.app[0] ? v[i].a.app : "-");
		buf_addf(out, "%-*s  %-*s  %s\n", (int)wname, v[i].a.name, (int)wkind, kind.data,
			 v[i].state);
		attachment_lines(out, &v[i], app, app ? 0 : wowner + 2);
	}
	buf_release(&kind);
}

void view_addon_info(struct buf *out, const struct addon_shown *s, int64_t now)
{
	buf_addf(out, "=== %s\n", s->a.name);
	buf_adds(out, "Kind:         ");
	kind_major(out, &s->a);
	buf_addf(out, "\nOwning app:   %s\n", s->a.app[0] ? s->a.app : "(none)");
	buf_adds(out, "Attachments:  ");
	for (size_t i = 0; i < s->attachments.n; i++)
		buf_addf(out, "%s%s", i ? ", " : "", s->attachments.v[i]);
	buf_addf(out, "%s\nPort:         %d\nCreated at:   ", s->attachments.n ? "" : "(none)",
		 s->a.port);
	view_when(out, s->a.created, now);
	buf_addf(out, "\nState:        %s\n", s->state);
	if (s->data_size >= 0) {
		char size[32];
		units_format_size((uint64_t)s->data_size, size, sizeof(size));
		buf_addf(out, "Data size:    %s\n", size);
	}
}

static void addon_object(struct json *j, const struct addon_shown *s)
{
	struct buf when = BUF_INIT;
	json_object_begin(j, NULL);
	json_string(j, "name", s->a.name);
	json_string(j, "kind", s->a.kind);
	json_int(j, "major", s->a.major);
	json_string(j, "app", s->a.app[0] ? s->a.app : NULL);
	json_array_begin(j, "attachments");
	for (size_t i = 0; i < s->attachments.n; i++) {
		const char *at = s->attachments.v[i], *sep = strstr(at, "::");
		if (!sep)
			continue;
		char *app = xstrndup(at, (size_t)(sep - at));
		json_object_begin(j, NULL);
		json_string(j, "app", app);
		json_string(j, "name", sep + 2);
		json_object_end(j);
		free(app);
	}
	json_array_end(j);
	json_int(j, "port", s->a.port);
	view_iso8601(&when, s->a.created);
	json_string(j, "created_at", when.data);
	json_string(j, "state", s->state);
	if (s->data_size >= 0)
		json_int(j, "data_size", s->data_size);
	else
		json_null(j, "data_size");
	json_object_end(j);
	buf_release(&when);
}

void view_addon_json(struct buf *out, const struct addon_shown *s)
{
	struct json j = JSON_INIT(out);
	addon_object(&j, s);
	buf_adds(out, "\n");
}

void view_addons_json(struct buf *out, const struct addon_shown *v, size_t n)
{
	struct json j = JSON_INIT(out);
	json_array_begin_lined(&j, NULL);
	for (size_t i = 0; i < n; i++)
		addon_object(&j, &v[i]);
	json_array_end(&j);
	buf_adds(out, "\n");
}
