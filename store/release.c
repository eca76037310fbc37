#include "store/release.h"

#include "store/cas.h"
#include "util/error.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void release_release(struct release *r)
{
	free(r->description);
	free(r->user);
	free(r->output);
	proc_list_release(&r->procs);
	config_release(&r->config);
	attach_release(&r->addons);
	struct release empty = RELEASE_INIT;
	*r = empty;
}

void release_copy(struct release *dst, const struct release *src)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config config = CONFIG_INIT;

	*dst = *src;
	dst->description = src->description ? xstrdup(src->description) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->output = src->output ? xstrdup(src->output) : NULL;
	for (size_t i = 0; i < src->procs.n; i++)
		proc_list_set(&procs, src->procs.items[i].name, src->procs.items[i].command);
	struct attachments addons = ATTACHMENTS_INIT;
	config_copy(&config, &src->config);
	attach_copy(&addons, &src->addons);
	dst->procs = procs;
	dst->config = config;
	dst->addons = addons;
}

const char *release_status_name(enum release_status s)
{
	switch (s) {
	case RELEASE_SUCCEEDED: return "succeeded";
	case RELEASE_PENDING: return "pending";
	case RELEASE_FAILED: return "failed";
	}
	return "unknown";
}

static void add_line(struct buf *out, const char *key, const char *value)
{
	buf_adds(out, key);
	buf_adds(out, " ");
	/* a value never spans lines */
	for (const char *p = value; *p; p++)
		buf_add(out, (*p == '\n' || *p == '\r') ? " " : p, 1);
	buf_adds(out, "\n");
}

void release_format(const struct release *r, struct buf *out)
{
	buf_addf(out, "version %d\n", r->version);
	add_line(out, "status", release_status_name(r->status));
	add_line(out, "description", r->description ? r->description : "");
	add_line(out, "user", r->user ? r->user : "");
	buf_addf(out, "created %" PRId64 "\n", r->created);
	if (r->commit[0])
		add_line(out, "commit", r->commit);
	if (r->slug[0]) {
		add_line(out, "slug", r->slug);
		buf_addf(out, "slug_size %" PRIu64 "\n", r->slug_size);
	}
	if (r->rollback_of)
		buf_addf(out, "rollback_of %d\n", r->rollback_of);
	if (r->failed_start)
		add_line(out, "failed_at",
			 r->failed_start == RELEASE_INTERRUPTED ? "interrupted" : "start");
	if (r->release_command)
		add_line(out, "release_command", "yes");
}

static int is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_field(struct release *r, const char *key, const char *value)
{
	int64_t v;

	if (!strcmp(key, "version")) {
		if (parse_int64(value, 1, RELEASE_VERSION_MAX, &v))
			return -1;
		r->version = (int)v;
	} else if (!strcmp(key, "status")) {
		if (!strcmp(value, "succeeded"))
			r->status = RELEASE_SUCCEEDED;
		else if (!strcmp(value, "pending"))
			r->status = RELEASE_PENDING;
		else if (!strcmp(value, "failed"))
			r->status = RELEASE_FAILED;
		else
			return -1;
	} else if (!strcmp(key, "description")) {
		free(r->description);
		r->description = xstrdup(value);
	} else if (!strcmp(key, "user")) {
		free(r->user);
		r->user = xstrdup(value);
	} else if (!strcmp(key, "created")) {
		if (parse_int64(value, 0, INT64_MAX, &r->created))
			return -1;
	} else if (!strcmp(key, "commit")) {
		if (!is_hex(value, 40))
			return -1;
		memcpy(r->commit, value, 41);
	} else if (!strcmp(key, "slug")) {
		if (!is_hex(value, 64))
			return -1;
		memcpy(r->slug, value, 65);
	} else if (!strcmp(key, "slug_size")) {
		if (parse_int64(value, 0, INT64_MAX, &v))
			return -1;
		r->slug_size = (uint64_t)v;
	} else if (!strcmp(key, "rollback_of")) {
		if (parse_int64(value, 1, RELEASE_VERSION_MAX, &v))
			return -1;
		r->rollback_of = (int)v;
	} else if (!strcmp(key, "failed_at")) {
		r->failed_start = !strcmp(value, "start")	  ? RELEASE_FAILED_START
				  : !strcmp(value, "interrupted") ? RELEASE_INTERRUPTED
								  : 0;
	} else if (!strcmp(key, "release_command")) {
		r->release_command = !strcmp(value, "yes");
	}
	/* unknown keys are kept for newer versions: ignored here */
	return 0;
}

int release_parse(struct release *r, const char *data, size_t len)
{
	size_t pos = 0;
	int line = 0;

	if (memchr(data, '\0', len))
		return sw_error_set(SW_EINVALID, "release record contains a NUL byte");
	while (pos < len) {
		const char *start = data + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		line++;
		if (n == 0)
			continue;
		char *l = xstrndup(start, n);
		char *sp = strchr(l, ' ');
		int bad = !sp;
		if (sp) {
			*sp = '\0';
			bad = parse_field(r, l, sp + 1) < 0;
		}
		free(l);
		if (bad)
			return sw_error_set(SW_EINVALID, "release record line %d is malformed", line);
	}
	if (!r->version)
		return sw_error_set(SW_EINVALID, "release record has no version");
	return 0;
}

int release_parse_version(const char *s, int *out)
{
	const char *p = s;
	if (*p == 'v' || *p == 'V')
		p++;
	int64_t v;
	if (*p < '0' || *p > '9' || strlen(p) > 10 ||
	    parse_int64(p, 1, RELEASE_VERSION_MAX, &v))
		return sw_error_set(SW_EINVALID,
			"invalid release version '%s': use vN or N with N a release number (e.g. v3)", s);
	*out = (int)v;
	return 0;
}
