#include "view/builds.h"
#include "view/view.h"

#include "util/json.h"

#include <stdio.h>
#include <string.h>

void view_builds(struct buf *out, const char *app, const struct build_record *v, size_t n,
		 int64_t now)
{
	size_t wid = 2, wst = 6, wby = 2;
	for (size_t i = 0; i < n; i++) {
		char id[16];
		size_t len = (size_t)snprintf(id, sizeof(id), "%d", v[i].id);
		wid = len > wid ? len : wid;
		len = strlen(build_status_name(v[i].status));
		wst = len > wst ? len : wst;
		len = v[i].user ? strlen(v[i].user) : 0;
		wby = len > wby ? len : wby;
	}
	buf_addf(out, "=== %s Builds\n", app);
	buf_addf(out, "%-*s  %-*s  %-7s  %-*s  %-7s  %s\n", (int)wid, "ID", (int)wst, "Status",
		 "Commit", (int)wby, "By", "Release", "When");
	for (size_t i = 0; i < n; i++) {
		char rel[16] = "-";
		if (v[i].release)
			snprintf(rel, sizeof(rel), "v%d", v[i].release);
		buf_addf(out, "%-*d  %-*s  %-7.7s  %-*s  %-7s  ", (int)wid, v[i].id, (int)wst,
			 build_status_name(v[i].status), v[i].commit, (int)wby,
			 v[i].user ? v[i].user : "", rel);
		view_when(out, v[i].created, now);
		buf_adds(out, "\n");
	}
}

static void build_json(struct json *j, const struct build_record *r)
{
	struct buf when = BUF_INIT;
	view_iso8601(&when, r->created);
	json_object_begin(j, NULL);
	json_int(j, "id", r->id);
	json_string(j, "status", build_status_name(r->status));
	json_string(j, "commit", r->commit[0] ? r->commit : NULL);
	json_object_begin(j, "user");
	json_string(j, "email", r->user ? r->user : "");
	json_object_end(j);
	json_string(j, "created_at", when.data);
	json_string(j, "source", r->source ? r->source : "");
	if (r->release) {
		json_object_begin(j, "release");
		json_int(j, "version", r->release);
		json_object_end(j);
	} else {
		json_null(j, "release");
	}
	json_object_end(j);
	buf_release(&when);
}

void view_builds_json(struct buf *out, const struct build_record *v, size_t n)
{
	struct json j = JSON_INIT(out);
	json_array_begin_lined(&j, NULL);
	for (size_t i = 0; i < n; i++)
		build_json(&j, &v[i]);
	json_array_end(&j);
	buf_adds(out, "\n");
}
