#define _GNU_SOURCE
#include "runtime/healthcheck.h"

#include "store/cas.h"
#include "store/paths.h"
#include "store/settings.h"
#include "store/slug.h"
#include "util/fsutil.h"
#include "util/error.h"
#include "util/run.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#define APP_JSON "./app/app.json"
#define APP_JSON_IN_TREE "app.json" /* the same, in the slug's unpacked tree */
#define APP_JSON_MAX (256 * 1024)

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in the mapping m, or NULL. */
static yaml_node_t *lookup(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static int number(const char *field, yaml_node_t *n, int min, int max, int *out)
{
	const char *s = scalar(n);
	char *end = NULL;
	long v = s && *s ? strtol(s, &end, 10) : -1;
	if (!s || !*s || *end || v < min || v > max)
		return sw_error_set(SW_EINVALID, "app.json: healthchecks.web %s must be a number from "
				    "%d to %d", field, min, max);
	*out = (int)v;
	return 0;
}

static int one_check(yaml_document_t *doc, yaml_node_t *m, struct healthcheck *c)
{
	static const char *const known[] = { "type", "name", "path", "attempts", "timeout", "wait",
					     "content", "initialDelay", NULL };
	if (m->type != YAML_MAPPING_NODE)
		return sw_error_set(SW_EINVALID, "app.json: each of healthchecks.web must be an object");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		size_t i = 0;
		while (k && known[i] && strcmp(known[i], k))
			i++;
		if (!k || !known[i])
			return sw_error_set(SW_EINVALID, "app.json: unknown health check field '%s' "
					    "(known: type, name, path, attempts, timeout, wait, content, "
					    "initialDelay)", k ? k : "?");
	}
	const char *type = scalar(lookup(doc, m, "type"));
	if (type && strcmp(type, "startup"))
		return sw_error_set(SW_EINVALID, "app.json: health check type '%s' is not supported "
				    "(use startup)", type);
	const char *path = scalar(lookup(doc, m, "path"));
	if (!path || path[0] != '/' || strlen(path) >= sizeof(c->path) ||
	    strpbrk(path, " \t\r\n"))
		return sw_error_set(SW_EINVALID, "app.json: a health check needs a \"path\" such as "
				    "\"/health\"");
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->attempts = 5;
	c->timeout = 5;
	c->wait = 1;
	c->initial_delay = 0;
	yaml_node_t *n;
	int err = 0;
	if (!err && (n = lookup(doc, m, "attempts")))
		err = number("attempts", n, 1, 100, &c->attempts);
	if (!err && (n = lookup(doc, m, "timeout")))
		err = number("timeout", n, 1, 300, &c->timeout);
	if (!err && (n = lookup(doc, m, "wait")))
		err = number("wait", n, 0, 300, &c->wait);
	if (!err && (n = lookup(doc, m, "initialDelay")))
		err = number("initialDelay", n, 0, 300, &c->initial_delay);
	const char *content = scalar(lookup(doc, m, "content"));
	if (!err && content && strlen(content) >= sizeof(c->content))
		err = sw_error_set(SW_EINVALID, "app.json: a health check's content is too long");
	if (!err)
		snprintf(c->content, sizeof(c->content), "%s", content ? content : "");
	return err;
}

static int parse(const char *text, size_t len, struct healthchecks *hc)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int err = 0;

	/* JSON: an object, first of all (a YAML parser would take more) */
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i == len || text[i] != '{')
		return sw_error_set(SW_EINVALID, "app.json is not a JSON object");
	if (!yaml_parser_initialize(&parser))
		return sw_error_set(SW_ERROR, "cannot read app.json");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = sw_error_set(SW_EINVALID, "app.json is not valid JSON: %s at line %zu",
				   parser.problem ? parser.problem : "syntax error",
				   parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		return err;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	yaml_node_t *web = lookup(&doc, lookup(&doc, root, "healthchecks"), "web");
	if (web && web->type != YAML_SEQUENCE_NODE)
		err = sw_error_set(SW_EINVALID, "app.json: healthchecks.web must be a list of checks");
	for (yaml_node_item_t *it = web && !err ? web->data.sequence.items.start : NULL;
	     it && it < web->data.sequence.items.top && !err; it++) {
		if (hc->n == HEALTHCHECKS_MAX) {
			err = sw_error_set(SW_EINVALID, "app.json: at most %d web health checks",
					   HEALTHCHECKS_MAX);
			break;
		}
		err = one_check(&doc, yaml_document_get_node(&doc, *it), &hc->v[hc->n]);
		if (!err)
			hc->n++;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return err;
}

/*
 * app.json from the slug's unpacked tree (exec/slugtree.h), the files its
 * instances run: no pass through the whole archive.  1 when the tree gave
 * the answer (err: 0, or SW_ENOTFOUND when it has no app.json), 0 when the
 * slug must be asked: no tree (or gc took it meanwhile), or an app.json
 * that is not a plain file or too large, which the slug's reader words.
 */
static int tree_read(const char *root, const char *hex, char **text, size_t *len, int *err)
{
	char *tree = paths_tree(root, hex);
	int answered = 0;
	if (fs_is_dir(tree)) {
		*err = fs_read_tree_file(tree, APP_JSON_IN_TREE, APP_JSON_MAX, text, len);
		answered = !*err || (*err == SW_ENOTFOUND && fs_is_dir(tree));
	}
	if (!answered) {
		free(*text);
		*text = NULL;
	}
	free(tree);
	return answered;
}

int healthchecks_load(const char *root, const char *hex, struct healthchecks *hc)
{
	char *slug = NULL, *text = NULL;
	size_t len = 0;
	memset(hc, 0, sizeof(*hc));
	int err = 0;
	if (!tree_read(root, hex, &text, &len, &err)) {
		slug = cas_path(root, hex);
		err = slug_read_file(slug, APP_JSON, APP_JSON_MAX, &text, &len);
		free(slug);
	}
	if (err == SW_ENOTFOUND)
		return 0;
	if (!err)
		err = parse(text, len, hc);
	free(text);
	return err;
}

/* One GET with curl: its HTTP status (0: no answer) and whether the body holds content. */
static int get_once(const struct healthcheck *c, const char *address, const char *host, int *has)
{
	char *url = xasprintf("http://%s%s", address, c->path);
	char *hdr = xasprintf("Host: %s", host), *secs = xasprintf("%d", c->timeout);
	const char *argv[] = { "curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", secs,
			       "-H", hdr, url, NULL };
	struct run_opts o = RUN_OPTS_INIT;
	struct buf out = BUF_INIT;
	int status = -1, code = 0;
	o.argv = argv;
	o.capture = &out;
	o.capture_max = 1 << 20;
	o.timeout_sec = c->timeout + 5;
	if (run_child(&o, &status) == 0) {
		char *nl = strrchr(out.data, '\n');
		code = nl ? atoi(nl + 1) : 0;
		if (nl)
			*nl = '\0';
		*has = !c->content[0] || strstr(out.data, c->content) != NULL;
	}
	buf_release(&out);
	free(url);
	free(hdr);
	free(secs);
	return code;
}

static void pause_s(int s)
{
	nanosleep(&(struct timespec){ s, 0 }, NULL);
}

int healthchecks_run(const struct healthchecks *hc, const char *instance, const char *address,
		     const char *host, char **why)
{
	*why = NULL;
	for (int i = 0; i < hc->n; i++) {
		const struct healthcheck *c = &hc->v[i];
		int code = 0, has = 0;
		if (c->initial_delay)
			pause_s(c->initial_delay);
		for (int k = 0; k < c->attempts; k++) {
			if (k && c->wait)
				pause_s(c->wait);
			code = get_once(c, address, host, &has);
			if (code >= 200 && code < 400 && has)
				break;
		}
		if (code >= 200 && code < 400 && has)
			continue;
		if (!code)
			*why = xasprintf("%s failed its health check GET %s: no answer within %d s, "
					 "%d attempt%s", instance, c->path, c->timeout, c->attempts,
					 c->attempts == 1 ? "" : "s");
		else if (code >= 200 && code < 400)
			*why = xasprintf("%s failed its health check GET %s: the answer does not hold "
					 "\"%s\" (%d attempt%s)", instance, c->path, c->content,
					 c->attempts, c->attempts == 1 ? "" : "s");
		else
			*why = xasprintf("%s failed its health check GET %s: HTTP %d after %d "
					 "attempt%s", instance, c->path, code, c->attempts,
					 c->attempts == 1 ? "" : "s");
		return sw_error_set(SW_ETIMEOUT, "%s", *why);
	}
	return 0;
}

int healthchecks_load_once(const char *root, const char *app, const char *hex,
			   struct healthchecks *hc, char **host)
{
	struct settings *s = NULL;
	char *domain = NULL;
	int err = settings_open(&s, root, app);
	if (!err)
		err = settings_string(s, &SETTING_DOMAIN, &domain);
	if (!err)
		err = healthchecks_load(root, hex, hc);
	for (int i = 0; !err && i < hc->n; i++) {
		hc->v[i].attempts = 1;
		hc->v[i].initial_delay = 0;
	}
	*host = err ? NULL : xasprintf("%s.%s", app, domain);
	free(domain);
	settings_free(s);
	return err;
}
