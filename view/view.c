#include "view/view.h"

#include "util/json.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void view_when(struct buf *out, int64_t created, int64_t now)
{
	time_t t = (time_t)created;
	struct tm tm;
	char s[64];

	localtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y/%m/%d %H:%M:%S %z", &tm);
	buf_adds(out, s);
	int64_t age = now - created;
	if (age < 0 || age >= 86400)
		return;
	if (age < 60)
		buf_addf(out, " (~ %" PRId64 "s ago)", age);
	else if (age < 3600)
		buf_addf(out, " (~ %" PRId64 "m ago)", age / 60);
	else
		buf_addf(out, " (~ %" PRId64 "h ago)", age / 3600);
}

void view_iso8601(struct buf *out, int64_t created)
{
	time_t t = (time_t)created;
	struct tm tm;
	char s[64];
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_adds(out, s);
}

void view_change(struct buf *out, const struct release *r)
{
	buf_adds(out, r->description ? r->description : "");
	if (r->status == RELEASE_FAILED && r->failed_start == RELEASE_INTERRUPTED)
		buf_adds(out, " (interrupted)");
	else if (r->status == RELEASE_FAILED && r->failed_start)
		buf_adds(out, " (processes failed to start)");
	else if (r->status == RELEASE_FAILED)
		buf_adds(out, " (release command failed)");
	else if (r->status == RELEASE_PENDING && r->release_command)
		buf_adds(out, " (release command executing)");
	else if (r->status == RELEASE_PENDING)
		buf_adds(out, " (processes starting)");
}

void view_releases(struct buf *out, const char *app, int current,
		   const struct release *rels, size_t n, int64_t now)
{
	size_t wv = 0, wc = 0, wu = 0;
	struct buf tmp = BUF_INIT;

	if (!n) {
		buf_addf(out, "%s has no releases.\n", app);
		return;
	}
	/* no release succeeded yet: nothing is current to name */
	if (current)
		buf_addf(out, "=== %s Releases - Current: v%d\n\n", app, current);
	else
		buf_addf(out, "=== %s Releases\n\n", app);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&tmp);
		buf_addf(&tmp, "v%d", rels[i].version);
		wv = tmp.len > wv ? tmp.len : wv;
		buf_reset(&tmp);
		view_change(&tmp, &rels[i]);
		wc = tmp.len > wc ? tmp.len : wc;
		size_t ul = strlen(rels[i].user ? rels[i].user : "");
		wu = ul > wu ? ul : wu;
	}
	for (size_t i = 0; i < n; i++) {
		buf_reset(&tmp);
		buf_addf(&tmp, "v%d", rels[i].version);
		buf_addf(out, "%-*s  ", (int)wv, tmp.data);
		buf_reset(&tmp);
		view_change(&tmp, &rels[i]);
		buf_addf(out, "%-*s  %-*s  ", (int)wc, tmp.data, (int)wu,
			 rels[i].user ? rels[i].user : "");
		view_when(out, rels[i].created, now);
		buf_adds(out, "\n");
	}
	buf_release(&tmp);
}

/* "created_at":"2026-11-21T22:31:07Z" */
static void json_time(struct json *j, const char *key, int64_t t)
{
	struct buf s = BUF_INIT;
	view_iso8601(&s, t);
	json_string(j, key, s.data);
	buf_release(&s);
}

/* A string, or null when it is empty (a commit not known). */
static void json_hex(struct json *j, const char *key, const char *s)
{
	json_string(j, key, s[0] ? s : NULL);
}

static void config_json(struct json *j, const char *key, const struct config *c)
{
	json_object_begin(j, key);
	for (size_t i = 0; i < c->n; i++)
		json_string(j, c->items[i].key, c->items[i].value);
	json_object_end(j);
}

static void release_json(struct json *j, const struct release *r, int current, int details,
			 const char *unfit)
{
	json_object_begin(j, NULL);
	json_int(j, "version", r->version);
	json_string(j, "description", r->description ? r->description : "");
	json_object_begin(j, "user");
	json_string(j, "email", r->user ? r->user : "");
	json_object_end(j);
	json_time(j, "created_at", r->created);
	json_string(j, "status", release_status_name(r->status));
	json_bool(j, "current", current);
	json_hex(j, "commit", r->commit);
	if (r->slug[0]) {
		json_object_begin(j, "slug");
		json_stringf(j, "checksum", "SHA256:%s", r->slug);
		json_uint(j, "size", r->slug_size);
		json_object_end(j);
	} else {
		json_null(j, "slug");
	}
	if (r->rollback_of)
		json_int(j, "rollback_of", r->rollback_of);
	if (details) {
		json_object_begin(j, "process_types");
		for (size_t i = 0; i < r->procs.n; i++)
			json_string(j, r->procs.items[i].name, r->procs.items[i].command);
		json_object_end(j);
		config_json(j, "config_vars", &r->config);
		json_array_begin(j, "addons");
		for (size_t i = 0; i < r->addons.n; i++) {
			const struct attachment *at = &r->addons.v[i];
			json_object_begin(j, NULL);
			json_string(j, "name", at->addon);
			json_string(j, "as", at->alias);
			json_array_begin(j, "config_vars");
			for (size_t k = 0; k < at->vars.n; k++)
				json_string(j, NULL, at->vars.v[k]);
			json_array_end(j);
			json_object_end(j);
		}
		json_array_end(j);
		json_bool(j, "eligible_for_rollback", !unfit);
		if (unfit)
			json_string(j, "ineligible_reason", unfit);
	}
	json_object_end(j);
}

void view_release_json(struct buf *out, const struct release *r, int current, int details,
		       const char *unfit)
{
	struct json j = JSON_INIT(out);
	release_json(&j, r, current, details, unfit);
}

void view_releases_json(struct buf *out, const struct release *rels, size_t n, int current)
{
	struct json j = JSON_INIT(out);
	json_array_begin_lined(&j, NULL);
	for (size_t i = 0; i < n; i++)
		release_json(&j, &rels[i], rels[i].version == current, 0, NULL);
	json_array_end(&j);
	buf_adds(out, "\n");
}

void view_release_info(struct buf *out, const struct release *r, int current, const char *unfit,
		       const struct strvec *hosts, int64_t now)
{
	buf_addf(out, "=== Release v%d%s\n", r->version, current ? " (current)" : "");
	buf_adds(out, "Change:    ");
	view_change(out, r);
	buf_addf(out, "\nBy:        %s\nWhen:      ", r->user ? r->user : "");
	view_when(out, r->created, now);
	buf_addf(out, "\nStatus:    %s\n", release_status_name(r->status));
	if (hosts) {
		buf_adds(out, "Hosts:     ");
		for (size_t i = 0; i < hosts->n; i++)
			buf_addf(out, "%s%s", i ? ", " : "", hosts->v[i]);
		buf_adds(out, hosts->n ? "\n" : "none\n");
	}
	if (unfit)
		buf_addf(out, "Eligible for Rollback?: No (%s)\n", unfit);
	else
		buf_adds(out, "Eligible for Rollback?: Yes\n");
	buf_addf(out, "Commit:    %s\n", r->commit[0] ? r->commit : "(none)");
	if (r->slug[0])
		buf_addf(out, "Slug:      SHA256:%s (%" PRIu64 " bytes)\n", r->slug, r->slug_size);
	else
		buf_adds(out, "Slug:      (none)\n");
	buf_adds(out, r->procs.n ? "Processes:\n" : "Processes: (none)\n");
	for (size_t i = 0; i < r->procs.n; i++)
		buf_addf(out, "  %s: %s\n", r->procs.items[i].name, r->procs.items[i].command);
	for (size_t i = 0; i < r->addons.n; i++)
		buf_addf(out, "%s%s (%s)%s", i ? ", " : "Addons:    ", r->addons.v[i].addon,
			 r->addons.v[i].alias, i + 1 == r->addons.n ? "\n" : "");
	buf_addf(out, "\n=== v%d Config vars\n", r->version);
	view_config_table(out, &r->config);
}

void view_config_shell(struct buf *out, const struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		buf_addf(out, "%s=", c->items[i].key);
		buf_add_shell_quoted(out, c->items[i].value);
		buf_adds(out, "\n");
	}
}

void view_config_json(struct buf *out, const struct config *c)
{
	struct json j = JSON_INIT(out);
	config_json(&j, NULL, c);
}

void view_names_json(struct buf *out, const struct strvec *names)
{
	struct json j = JSON_INIT(out);
	json_array_begin(&j, NULL);
	for (size_t i = 0; i < names->n; i++)
		json_string(&j, NULL, names->v[i]);
	json_array_end(&j);
	buf_adds(out, "\n");
}

void view_config_table(struct buf *out, const struct config *c)
{
	size_t w = 0;
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->items[i].key) + 1 > w)
			w = strlen(c->items[i].key) + 1;
	for (size_t i = 0; i < c->n; i++) {
		buf_addf(out, "%s:%*s", c->items[i].key, (int)(w - strlen(c->items[i].key)), "");
		buf_addf(out, "%s\n", c->items[i].value);
	}
}

char *view_rollback_release_command(const struct release *was, const struct release *t, int done)
{
	const char *cmd = proc_list_get(&t->procs, "release");
	const char *old = proc_list_get(&was->procs, "release");
	if (old && !cmd)
		return xasprintf("v%d has no release command, unlike v%d: what v%d's (\"%s\") did to "
				 "your database is not undone.", t->version, was->version, was->version,
				 old);
	if (old && strcmp(cmd, old))
		return xasprintf("v%d's release command differs from v%d's: the release phase %s "
				 "v%d's (\"%s\"), but what v%d's (\"%s\") did to your database is not "
				 "undone.", t->version, was->version, done ? "ran" : "will run",
				 t->version, cmd, was->version, old);
	if (cmd && !done)
		return xasprintf("The release phase will run v%d's release command (\"%s\") before "
				 "it goes live.", t->version, cmd);
	return NULL;
}
