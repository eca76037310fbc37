#include "cli/view.h"

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

void view_release_json(struct buf *out, const struct release *r, int current, int details,
		       const char *unfit)
{
	buf_addf(out, "{\"version\":%d,\"description\":", r->version);
	buf_add_json_string(out, r->description ? r->description : "");
	buf_adds(out, ",\"user\":{\"email\":");
	buf_add_json_string(out, r->user ? r->user : "");
	buf_adds(out, "},\"created_at\":\"");
	view_iso8601(out, r->created);
	buf_addf(out, "\",\"status\":\"%s\",\"current\":%s,\"commit\":",
		 release_status_name(r->status), current ? "true" : "false");
	if (r->commit[0])
		buf_addf(out, "\"%s\"", r->commit);
	else
		buf_adds(out, "null");
	if (r->slug[0])
		buf_addf(out, ",\"slug\":{\"checksum\":\"SHA256:%s\",\"size\":%" PRIu64 "}",
			 r->slug, r->slug_size);
	else
		buf_adds(out, ",\"slug\":null");
	if (r->rollback_of)
		buf_addf(out, ",\"rollback_of\":%d", r->rollback_of);
	if (details) {
		buf_adds(out, ",\"process_types\":{");
		for (size_t i = 0; i < r->procs.n; i++) {
			buf_adds(out, i ? "," : "");
			buf_add_json_string(out, r->procs.items[i].name);
			buf_adds(out, ":");
			buf_add_json_string(out, r->procs.items[i].command);
		}
		buf_adds(out, "},\"config_vars\":");
		view_config_json(out, &r->config);
		buf_addf(out, ",\"eligible_for_rollback\":%s", unfit ? "false" : "true");
		if (unfit) {
			buf_adds(out, ",\"ineligible_reason\":");
			buf_add_json_string(out, unfit);
		}
	}
	buf_adds(out, "}");
}

void view_release_info(struct buf *out, const struct release *r, int current, const char *unfit,
		       int64_t now)
{
	buf_addf(out, "=== Release v%d%s\n", r->version, current ? " (current)" : "");
	buf_adds(out, "Change:    ");
	view_change(out, r);
	buf_addf(out, "\nBy:        %s\nWhen:      ", r->user ? r->user : "");
	view_when(out, r->created, now);
	buf_addf(out, "\nStatus:    %s\n", release_status_name(r->status));
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
	buf_adds(out, "{");
	for (size_t i = 0; i < c->n; i++) {
		buf_adds(out, i ? "," : "");
		buf_add_json_string(out, c->items[i].key);
		buf_adds(out, ":");
		buf_add_json_string(out, c->items[i].value);
	}
	buf_adds(out, "}");
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
