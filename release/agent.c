#define _GNU_SOURCE
#include "release/agent.h"

#include "release/apply.h"
#include "runtime/host.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "store/app.h"
#include "store/cas.h"
#include "store/s3.h"
#include "util/error.h"
#include "util/json.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#ifndef SLIPWAY_VERSION
#define SLIPWAY_VERSION "unknown"
#endif

/* The largest desired-state document read. */
#define AGENT_DOCUMENT_MAX (4 << 20)

/* The most bytes of log lines a logs request answers (the newest kept). */
#define AGENT_LOGS_MAX 1000000 /* with its first line, under what a control reads */

/*
 * Who the agent is, what its clock says and where its router listens
 * ("ADDRESS:PORT", ":PORT" on every address; left out when its settings
 * cannot be read), with the request answered.
 */
static int answer_hello(const struct agent_in *a, const char *request, const char *arg,
			struct buf *out)
{
	struct json j = JSON_INIT(out);
	struct router_listen l;
	struct timeval tv;
	if (*arg)
		return sw_error_set(SW_EINVALID, "%s takes nothing after it", request);
	gettimeofday(&tv, NULL);
	json_object_begin(&j, NULL);
	json_string(&j, "slipway", SLIPWAY_VERSION);
	json_int(&j, "clock_ms", (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	if (router_listen_read(a->root, &l) == 0) {
		char *router = xasprintf("%s:%d", l.address, l.port);
		json_string(&j, "router", router);
		free(router);
	}
	json_string(&j, "request", request);
	json_object_end(&j);
	return 0;
}

/* The largest S3 settings document read (slug-s3). */
#define AGENT_S3_DOCUMENT_MAX 16384

/* What the store did with a slug: {"slug":SHA,"stored":BOOL,"size":N} (and "from"). */
static void answer_stored(const char *hex, int stored, uint64_t size, const char *from,
			  struct buf *out)
{
	struct json j = JSON_INIT(out);
	json_object_begin(&j, NULL);
	json_string(&j, "slug", hex);
	json_bool(&j, "stored", stored);
	json_uint(&j, "size", size);
	if (from && stored)
		json_string(&j, "from", from);
	json_object_end(&j);
}

/* The slug's bytes on stdin, into the store once they are what their name says. */
static int answer_slug(const struct agent_in *a, const char *request, const char *arg,
		       struct buf *out)
{
	struct cas_stream s = CAS_STREAM_INIT;
	(void)request;
	if (!cas_valid_hex(arg))
		return sw_error_set(SW_EINVALID,
			"slug takes the slug's SHA-256 (64 lowercase hex digits)");
	s.what = "the slug sent";
	s.source = cas_source_file;
	s.ctx = a->in;
	int err = cas_store_stream(a->root, arg, &s);
	if (!err)
		answer_stored(arg, s.stored, s.size, NULL, out);
	return err;
}

/*
 * The slug fetched from S3 into the store, the control's S3 settings (its
 * secret too) a flat document on stdin: they are kept in memory only, and
 * wiped when the fetch is done.
 */
static int answer_slug_s3(const struct agent_in *a, const char *request, const char *arg,
			  struct buf *out)
{
	struct buf doc = BUF_INIT;
	struct s3 s3 = S3_INIT;
	char chunk[4096];
	uint64_t size = 0;
	size_t got;
	int fetched = 0, err = 0;
	(void)request;
	if (!cas_valid_hex(arg))
		return sw_error_set(SW_EINVALID,
			"slug-s3 takes the slug's SHA-256 (64 lowercase hex digits)");
	while (!err && (got = fread(chunk, 1, sizeof(chunk), a->in)) > 0) {
		buf_add(&doc, chunk, got);
		if (doc.len > AGENT_S3_DOCUMENT_MAX)
			err = sw_error_set(SW_EINVALID, "the S3 settings sent are larger than %d bytes",
					   AGENT_S3_DOCUMENT_MAX);
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (!err && ferror(a->in))
		err = sw_error_errno(SW_ERROR, "cannot read the S3 settings");
	if (!err)
		err = s3_json_read(&s3, doc.data ? doc.data : "");
	if (!err)
		err = s3_slug_fetch(&s3, a->root, arg, &fetched);
	if (!err)
		err = cas_lookup(a->root, arg, &size);
	if (!err)
		answer_stored(arg, fetched, size, "s3", out);
	if (doc.data)
		explicit_bzero(doc.data, doc.len);
	buf_release(&doc);
	s3_release(&s3);
	return err;
}

/* The desired-state document on stdin, made this host's. */
static int answer_apply(const struct agent_in *a, const char *request, const char *arg,
			struct buf *out)
{
	struct buf doc = BUF_INIT;
	char chunk[65536];
	size_t got;
	int err = 0;
	(void)request;
	if (*arg)
		return sw_error_set(SW_EINVALID, "apply takes its document on stdin, nothing after it");
	while (!err && (got = fread(chunk, 1, sizeof(chunk), a->in)) > 0) {
		buf_add(&doc, chunk, got);
		if (doc.len > AGENT_DOCUMENT_MAX)
			err = sw_error_set(SW_EINVALID, "the document is larger than %d bytes",
					   AGENT_DOCUMENT_MAX);
	}
	if (!err && ferror(a->in))
		err = sw_error_errno(SW_ERROR, "cannot read the document");
	if (!err)
		err = apply_document(a->root, a->self, doc.data ? doc.data : "", out);
	buf_release(&doc);
	return err;
}

static int answer_state(const struct agent_in *a, const char *request, const char *arg,
			struct buf *out)
{
	(void)request;
	size_t w = strcspn(arg, " \t");
	const char *more = arg + w + strspn(arg + w, " \t");
	char *app = xstrndup(arg, w);
	int err = app_name_check(app);
	if (!err && *more && strcmp(more, "health"))
		err = sw_error_set(SW_EINVALID, "state takes an app and, to run its health checks, "
				   "health");
	if (!err)
		err = apply_state(a->root, app, *more != 0, out);
	free(app);
	return err;
}

/* 1 when the words of a logs request's filter read well: ps=TYPE[.N], source=app|slipway, all. */
static int logs_word(const char *w, struct logs_filter *f)
{
	if (!strncmp(w, "ps=", 3) && w[3] && strlen(w + 3) <= 64 &&
	    strspn(w + 3, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(w + 3)) {
		f->ps = w + 3;
		return 1;
	}
	if (!strcmp(w, "source=app") || !strcmp(w, "source=slipway")) {
		f->source = w + 7;
		return 1;
	}
	if (!strcmp(w, "all"))
		return f->raw = 1;
	return 0;
}

/*
 * The app's last lines here, newest kept when they would be more than
 * AGENT_LOGS_MAX bytes: a JSON line saying how many, then the lines as
 * `logs` shows them.
 */
static int answer_logs(const struct agent_in *a, const char *request, const char *arg,
		       struct buf *out)
{
	struct logs_filter f = { 0 };
	struct strvec words = STRVEC_INIT;
	char *text = NULL, *end = NULL;
	size_t len = 0, count = 0;
	long n = 0;
	int err = 0;
	(void)request;
	char *copy = xstrdup(arg), *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		strvec_push(&words, w);
	free(copy);
	if (words.n >= 2)
		n = strtol(words.v[1], &end, 10);
	if (words.n < 2 || !end || *end || !*words.v[1] || n < 1 || n > LOGS_MAX_LINES)
		err = sw_error_set(SW_EINVALID, "logs takes an app and a number of lines (1 to %d)",
				   LOGS_MAX_LINES);
	for (size_t i = 2; !err && i < words.n; i++)
		if (!logs_word(words.v[i], &f))
			err = sw_error_set(SW_EINVALID, "logs takes ps=TYPE[.N], source=app|slipway "
					   "and all after its number of lines");
	if (!err)
		err = app_name_check(words.v[0]);
	if (!err)
		err = app_check_exists(a->root, words.v[0]);
	FILE *mem = err ? NULL : open_memstream(&text, &len);
	if (!err && !mem)
		err = sw_error_errno(SW_ERROR, "cannot make a buffer");
	if (!err) {
		err = host_logs(a->root, words.v[0], &f, (size_t)n, 0, mem, NULL, NULL);
		fclose(mem);
	}
	if (!err) {
		/* the newest lines that fit: a line is at most LOGS_LINE_MAX bytes, shown */
		const char *from = text;
		while (len - (size_t)(from - text) > AGENT_LOGS_MAX) {
			const char *nl = memchr(from, '\n', len - (size_t)(from - text));
			from = nl ? nl + 1 : text + len;
		}
		for (const char *p = from; p < text + len; p++)
			count += *p == '\n';
		struct json j = JSON_INIT(out);
		json_object_begin(&j, NULL);
		json_string(&j, "app", words.v[0]);
		json_uint(&j, "lines", count);
		json_object_end(&j);
		buf_adds(out, "\n");
		buf_add(out, from, len - (size_t)(from - text));
		if (out->len && out->data[out->len - 1] == '\n')
			buf_truncate(out, out->len - 1); /* agent_answer() ends the answer */
	}
	free(text);
	strvec_clear(&words);
	return err;
}

static const struct {
	const char *name;
	int (*fn)(const struct agent_in *a, const char *request, const char *arg,
		  struct buf *out);
} requests[] = {
	{ "hello", answer_hello },
	{ "ping", answer_hello },
	{ "slug", answer_slug },
	{ "slug-s3", answer_slug_s3 },
	{ "apply", answer_apply },
	{ "state", answer_state },
	{ "logs", answer_logs },
	{ NULL, NULL },
};

int agent_answer(const struct agent_in *a, const char *request, struct buf *out)
{
	if (!request)
		request = "";
	size_t n = strlen(request);
	while (n && strchr(" \t\r\n", request[n - 1]))
		n--;
	size_t skip = strspn(request, " \t");
	char *line = xstrndup(request + skip, n > skip ? n - skip : 0);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?'; /* the refusal is one line of text */
	size_t w = strcspn(line, " \t");
	const char *arg = line + w + strspn(line + w, " \t");
	int err = SW_EINVALID, found = 0;
	for (size_t i = 0; requests[i].name && !found; i++) {
		if (strlen(requests[i].name) != w || strncmp(line, requests[i].name, w))
			continue;
		found = 1;
		size_t before = out->len;
		if ((err = requests[i].fn(a, line, arg, out)) == 0)
			buf_adds(out, "\n");
		else
			buf_truncate(out, before);
	}
	if (!found)
		/* the first word only: a refusal repeats nothing long of what it was sent */
		err = sw_error_set(SW_EINVALID,
			"the node agent does not answer '%.*s': it answers hello, ping, slug, "
			"slug-s3, apply, state and logs", (int)(w > 64 ? 64 : w), line);
	free(line);
	return err;
}
