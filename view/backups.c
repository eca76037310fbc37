#include "view/backups.h"

#include "view/view.h"

#include "util/json.h"
#include "util/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* "Completed 2026-12-06 15:58:22 +0000" / "Failed ...", as Heroku's Status column says. */
static void status(struct buf *out, const struct backup *b)
{
	buf_adds(out, strcmp(b->status, "completed") ? "Failed " : "Completed ");
	view_iso8601(out, b->finished);
}

static void size(struct buf *out, const struct backup *b)
{
	char s[32];
	units_format_size((uint64_t)b->size, s, sizeof(s));
	buf_adds(out, strcmp(b->status, "completed") ? "-" : s);
}

static const char *restore_test(const struct backup *b)
{
	return !strcmp(b->restore, "passed") ? "passed" : !strcmp(b->restore, "failed") ? "failed"
											: "none";
}

void view_backups_table(struct buf *out, const struct backup_shown *v, size_t n)
{
	struct buf created = BUF_INIT, st = BUF_INIT, sz = BUF_INIT;
	buf_adds(out, "=== Backups\n");
	buf_addf(out, "%-8s  %-25s  %-35s  %-8s  %-30s  %-12s  %s\n", "ID", "Created at", "Status",
		 "Size", "Database", "Checksum", "Restore test");
	for (size_t i = n; i-- > 0;) {
		const struct backup *b = &v[i].b;
		char id[16];
		backup_id(b->number, id);
		buf_reset(&created);
		buf_reset(&st);
		buf_reset(&sz);
		view_iso8601(&created, b->created);
		status(&st, b);
		size(&sz, b);
		buf_addf(out, "%-8s  %-25s  %-35s  %-8s  %-30s  %-12.12s  %s\n", id, created.data,
			 st.data, sz.data, v[i].addon, b->sha256[0] ? b->sha256 : "-",
			 restore_test(b));
	}
	buf_release(&created);
	buf_release(&st);
	buf_release(&sz);
}

void view_backup_info(struct buf *out, const struct backup_shown *s)
{
	const struct backup *b = &s->b;
	char id[16];
	backup_id(b->number, id);
	buf_addf(out, "=== Backup %s\nDatabase:      %s\nApp:           %s\nStatus:        ", id,
		 s->addon, b->app[0] ? b->app : "(none)");
	status(out, b);
	buf_adds(out, "\nStarted at:    ");
	view_iso8601(out, b->created);
	buf_adds(out, "\nFinished at:   ");
	view_iso8601(out, b->finished);
	buf_adds(out, "\nBackup size:   ");
	size(out, b);
	buf_addf(out, "\nChecksum:      %s\nRestore test:  %s", b->sha256[0] ? b->sha256 : "-",
		 restore_test(b));
	if (!strcmp(b->restore, "passed"))
		buf_addf(out, " (%d table%s restored into a scratch cluster)", b->tables,
			 b->tables == 1 ? "" : "s");
	buf_adds(out, "\n");
	if (b->error[0])
		buf_addf(out, "Error:         %s\n", b->error);
}

void view_backups_json(struct buf *out, const struct backup_shown *v, size_t n)
{
	struct json j = JSON_INIT(out);
	struct buf when = BUF_INIT;
	json_array_begin_lined(&j, NULL);
	for (size_t i = n; i-- > 0;) {
		const struct backup *b = &v[i].b;
		char id[16];
		backup_id(b->number, id);
		json_object_begin(&j, NULL);
		json_string(&j, "id", id);
		json_string(&j, "addon", v[i].addon);
		json_string(&j, "app", b->app[0] ? b->app : NULL);
		buf_reset(&when);
		view_iso8601(&when, b->created);
		json_string(&j, "created_at", when.data);
		buf_reset(&when);
		view_iso8601(&when, b->finished);
		json_string(&j, "finished_at", when.data);
		json_string(&j, "status", b->status);
		json_int(&j, "size", b->size);
		json_string(&j, "sha256", b->sha256[0] ? b->sha256 : NULL);
		json_string(&j, "restore_test", restore_test(b));
		json_int(&j, "tables", b->tables);
		json_string(&j, "error", b->error[0] ? b->error : NULL);
		json_object_end(&j);
	}
	json_array_end(&j);
	buf_adds(out, "\n");
	buf_release(&when);
}
