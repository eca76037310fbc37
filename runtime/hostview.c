/*
 * An app across its hosts (runtime/hostview.h): each run host's agent
 * asked for its state and its logs, the answers read, the logs merged.
 */
#define _GNU_SOURCE
#include "runtime/hostview.h"

#include "runtime/host.h"
#include "runtime/nodes.h"
#include "store/apphosts.h"
#include "store/hosts.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hostview_hosts(const char *root, const char *app, struct strvec *out)
{
	struct strvec v = STRVEC_INIT;
	int all = 0, runs = 0;
	int err = apphosts_list(root, app, &v, &all);
	strvec_push(out, HOST_LOCAL);
	for (size_t i = 0; !err && i < v.n; i++)
		if (strcmp(v.v[i], HOST_LOCAL)) {
			strvec_push(out, v.v[i]);
			runs++;
		}
	strvec_clear(&v);
	return err < 0 ? err : runs;
}

/*
 * request's answer from the run host name's agent (strict host key);
 * failed gets "NAME: unreachable: WHY", or "NAME: WHY" when the agent
 * refused.
 */
static int ask(const char *root, const char *name, const char *request, struct buf *out,
	       struct strvec *failed)
{
	struct host_rec h = { 0 };
	struct host_url u = HOST_URL_INIT;
	char *kh = paths_hosts_file(root, "known_hosts");
	int err = hosts_find(root, name, &h);
	if (!err)
		err = host_url_parse(&u, h.url);
	if (!err)
		err = node_call(root, &u, request, NULL, kh, 0, out);
	if (err) {
		const char *why = sw_error_last();
		strvec_pushf(failed, "%s: %s%s", name,
			     !strncmp(why, "cannot reach ", 13) ? "unreachable: " : "", why);
	}
	host_rec_release(&h);
	host_url_release(&u);
	free(kh);
	return err;
}

/* A member of a state answer, an integer (0 when absent or not a number). */
static long long member_int(const char *answer, const char *name, const char *what)
{
	char *key = xasprintf("%s.%s", name, what), *v = NULL;
	long long n = 0;
	if (json_flat_get(answer, key, &v) == 0)
		n = strtoll(v, NULL, 10);
	free(v);
	free(key);
	return n;
}

/* A string member of a state answer into dst (size bytes; "" when absent). */
static void member_str(const char *answer, const char *name, const char *what, char *dst,
		       size_t size)
{
	char *key = xasprintf("%s.%s", name, what), *v = NULL;
	snprintf(dst, size, "%s", json_flat_get(answer, key, &v) == 0 ? v : "");
	free(v);
	free(key);
}

int hostview_parse_state(const char *answer, struct service_info **out, size_t *n)
{
	char *names = NULL, *save = NULL;
	int err = json_flat_get(answer, "instances", &names);
	if (err == SW_ENOTFOUND)
		err = sw_error_set(SW_EINVALID, "the host's state names no instances");
	for (char *w = err ? NULL : strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		struct service_info s;
		memset(&s, 0, sizeof(s));
		snprintf(s.name, sizeof(s.name), "%s", w);
		member_str(answer, w, "type", s.type, sizeof(s.type));
		member_str(answer, w, "state", s.state, sizeof(s.state));
		const char *dot = strrchr(w, '.');
		s.index = (int)member_int(answer, w, "index");
		if (!s.index && dot) /* an agent that did not say: the name's last part */
			s.index = atoi(dot + 1);
		s.version = (int)member_int(answer, w, "version");
		s.port = (int)member_int(answer, w, "port");
		s.pid = (long)member_int(answer, w, "pid");
		s.since = member_int(answer, w, "since");
		s.warm_until = member_int(answer, w, "warm_until");
		s.rss = member_int(answer, w, "rss");
		s.up = !strcmp(s.state, "up") || !strcmp(s.state, "warm");
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = s;
	}
	free(names);
	return err;
}

/* An instance and the place of its host in the list, for sorting. */
struct ranked {
	struct service_info s;
	size_t rank;
};

static int ranked_cmp(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	int c = strcmp(a->s.type, b->s.type);
	if (c)
		return c;
	if (!!a->s.warm_until != !!b->s.warm_until)
		return a->s.warm_until ? 1 : -1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->s.index - b->s.index;
}

/*
 * s[0..n) sorted, each with its host (ranks[i]: the place of s[i]'s in
 * hosts); qsort is not stable, so every key is compared.
 */
static void sort_instances(struct service_info *s, const size_t *ranks, size_t n,
			   const struct strvec *hosts)
{
	struct ranked *r = xcalloc(n ? n : 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = (struct ranked){ .s = s[i], .rank = ranks[i] };
	qsort(r, n, sizeof(*r), ranked_cmp);
	for (size_t i = 0; i < n; i++) {
		s[i] = r[i].s;
		s[i].host = hosts->v[r[i].rank];
	}
	free(r);
}

int hostview_ps(const char *root, const char *app, const struct strvec *hosts,
		struct service_info **out, size_t *n, struct strvec *failed)
{
	struct buf answer = BUF_INIT;
	size_t *ranks = NULL;
	char *req = xasprintf("state %s", app);
	int err = host_list(root, app, out, n);
	ranks = xcalloc(*n ? *n : 1, sizeof(*ranks));
	for (size_t h = 1; !err && h < hosts->n; h++) {
		size_t before = *n;
		buf_reset(&answer);
		if (ask(root, hosts->v[h], req, &answer, failed))
			continue;
		if (hostview_parse_state(answer.data ? answer.data : "", out, n) < 0)
			strvec_pushf(failed, "%s: %s", hosts->v[h], sw_error_last());
		ranks = xrealloc(ranks, (*n ? *n : 1) * sizeof(*ranks));
		for (size_t i = before; i < *n; i++)
			ranks[i] = h;
	}
	if (!err && hosts->n > 1)
		sort_instances(*out, ranks, *n, hosts);
	free(ranks);
	free(req);
	buf_release(&answer);
	return err;
}

/* 1 when p (len bytes) starts with a stamp as logs writes it, and a blank. */
static int stamped(const char *p, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddddd+dd:dd ";
	if (len < sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? p[i] < '0' || p[i] > '9' : p[i] != shape[i])
			return 0;
	return 1;
}

/* One line of the merge: where it is, and whose. */
struct merged {
	const char *p;
	size_t len, src, seq;
};

static int merged_cmp(const void *pa, const void *pb)
{
	const struct merged *a = pa, *b = pb;
	int c = memcmp(a->p, b->p, LOGS_STAMP_LEN);
	if (c)
		return c;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void hostview_logs_merge(struct hostview_lines *src, size_t nsrc, size_t n, int raw,
			 struct buf *out)
{
	struct merged *m = NULL;
	size_t count = 0, cap = 0;
	for (size_t s = 0; s < nsrc; s++) {
		const char *p = src[s].text, *end = p ? p + src[s].len : NULL;
		src[s].malformed = 0;
		for (size_t seq = 0; p && p < end; seq++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (!stamped(p, len)) {
				src[s].malformed += len > 0; /* an empty line is no line */
			} else {
				if (count == cap)
					m = xrealloc(m, (cap = cap ? cap * 2 : 64) * sizeof(*m));
				m[count++] = (struct merged){ .p = p, .len = len, .src = s, .seq = seq };
			}
			p += len + (nl != NULL);
		}
	}
	if (count)
		qsort(m, count, sizeof(*m), merged_cmp);
	for (size_t i = count > n ? count - n : 0; i < count; i++) {
		const char *host = src[m[i].src].host;
		buf_add(out, m[i].p, LOGS_STAMP_LEN);
		if (host)
			buf_addf(out, " %s", host);
		if (raw)
			buf_add(out, m[i].p + LOGS_STAMP_LEN, m[i].len - LOGS_STAMP_LEN);
		else
			buf_add_shown(out, m[i].p + LOGS_STAMP_LEN, m[i].len - LOGS_STAMP_LEN);
		buf_adds(out, "\n");
	}
	free(m);
}

/* The logs request of f and n: "logs APP N [ps=...] [source=...] [all]". */
static char *logs_request(const char *app, const struct logs_filter *f, size_t n)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "logs %s %zu", app, n);
	if (f->ps)
		buf_addf(&b, " ps=%s", f->ps);
	if (f->source)
		buf_addf(&b, " source=%s", f->source);
	if (f->raw)
		buf_adds(&b, " all");
	return buf_detach(&b);
}

int hostview_logs(const char *root, const char *app, const struct strvec *hosts,
		  const struct logs_filter *f, size_t n, FILE *out, struct strvec *failed)
{
	struct hostview_lines *src = xcalloc(hosts->n ? hosts->n : 1, sizeof(*src));
	struct buf *answers = xcalloc(hosts->n ? hosts->n : 1, sizeof(*answers));
	struct buf merged = BUF_INIT;
	char *local = NULL, *req = logs_request(app, f, n);
	size_t len = 0;
	FILE *mem = open_memstream(&local, &len);
	int err = mem ? 0 : sw_error_errno(SW_ERROR, "cannot make a buffer");
	if (!err) {
		err = host_logs(root, app, f, n, 0, mem, NULL, NULL);
		fclose(mem);
	}
	src[0] = (struct hostview_lines){ .host = hosts->n > 1 ? HOST_LOCAL : NULL,
					  .text = local, .len = len };
	for (size_t h = 1; !err && h < hosts->n; h++) {
		src[h].host = hosts->v[h];
		if (ask(root, hosts->v[h], req, &answers[h], failed))
			continue;
		/* past the answer's first line, which says how many follow */
		const char *a = answers[h].data ? answers[h].data : "";
		const char *nl = strchr(a, '\n');
		if (nl) {
			src[h].text = nl + 1;
			src[h].len = answers[h].len - (size_t)(src[h].text - a);
		}
	}
	if (!err) {
		hostview_logs_merge(src, hosts->n ? hosts->n : 1, n, f->raw, &merged);
		for (size_t h = 1; h < hosts->n; h++)
			if (src[h].malformed)
				strvec_pushf(failed, "%s: %zu line%s of its answer left out: not log lines",
					     hosts->v[h], src[h].malformed, src[h].malformed == 1 ? "" : "s");
		if (merged.len && fwrite(merged.data, 1, merged.len, out) != merged.len)
			err = sw_error_errno(SW_ERROR, "cannot write the logs");
	}
	for (size_t h = 0; h < hosts->n; h++)
		buf_release(&answers[h]);
	free(answers);
	free(src);
	buf_release(&merged);
	free(local);
	free(req);
	return err;
}

int hostview_runs(const char *root, const char *app, const struct strvec *hosts, int version,
		  struct strvec *out)
{
	struct service_info *s = NULL;
	struct strvec failed = STRVEC_INIT;
	struct buf answer = BUF_INIT;
	char *req = xasprintf("state %s", app), *v = NULL;
	size_t n = 0;
	int err = host_list(root, app, &s, &n), here = 0;
	for (size_t i = 0; !err && i < n; i++)
		here |= s[i].version == version && !s[i].warm_until && strcmp(s[i].state, "down");
	if (!err && here)
		strvec_push(out, HOST_LOCAL);
	for (size_t h = 1; !err && h < hosts->n; h++) {
		buf_reset(&answer);
		size_t had = failed.n;
		if (ask(root, hosts->v[h], req, &answer, &failed)) {
			if (strstr(failed.v[had], ": unreachable: "))
				strvec_pushf(out, "%s (unreachable)", hosts->v[h]);
			continue;
		}
		if (json_flat_get(answer.data ? answer.data : "", "version", &v) == 0 &&
		    atoi(v) == version)
			strvec_push(out, hosts->v[h]);
		free(v);
		v = NULL;
	}
	strvec_clear(&failed);
	buf_release(&answer);
	free(req);
	free(s);
	return err;
}
