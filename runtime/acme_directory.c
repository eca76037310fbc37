#define _GNU_SOURCE
#include "runtime/acme_directory.h"

#include "util/error.h"
#include "util/fsutil.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* where the system's CAs are (Debian's ca-certificates) */
#define SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"
#define DIRECTORY_MAX (256 * 1024)
#define PEM_MAX (1 << 20)
#define FETCH_SEC 30

static yaml_node_t *member(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

int acme_directory_parse_caa(const char *text, size_t len, struct strvec *ids)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	size_t i = 0;
	/* JSON, read as the YAML it also is: an object first of all */
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i == len || text[i] != '{')
		return sw_error_set(SW_EINVALID, "not a JSON object");
	if (!yaml_parser_initialize(&parser))
		return sw_error_set(SW_ERROR, "cannot read JSON");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int loaded = yaml_parser_load(&parser, &doc);
	yaml_parser_delete(&parser);
	if (!loaded)
		return sw_error_set(SW_EINVALID, "not valid JSON");
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	yaml_node_t *list = member(&doc, member(&doc, root, "meta"), "caaIdentities");
	for (yaml_node_item_t *it = list && list->type == YAML_SEQUENCE_NODE
					    ? list->data.sequence.items.start
					    : NULL;
	     it && it < list->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(&doc, *it);
		if (n && n->type == YAML_SCALAR_NODE && n->data.scalar.length)
			strvec_push(ids, (char *)n->data.scalar.value);
	}
	yaml_document_delete(&doc);
	return 0;
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	if (b->len + size * n > DIRECTORY_MAX)
		return 0; /* too long to be a directory: the transfer stops */
	buf_add(b, data, size * n);
	return size * n;
}

int acme_trusted_cas(const char *bundle, struct buf *cas)
{
	char *sys = NULL, *extra = NULL;
	size_t ns = 0, ne = 0;
	int err = fs_read_file(SYSTEM_CAS, 16 * PEM_MAX, &sys, &ns);
	if (err == SW_ENOTFOUND)
		err = 0;
	if (!err)
		err = fs_read_file(bundle, PEM_MAX, &extra, &ne);
	if (!err) {
		buf_add(cas, sys ? sys : "", ns);
		buf_adds(cas, "\n");
		buf_add(cas, extra, ne);
	}
	free(sys);
	free(extra);
	return err;
}

/* GET url into body; 0, or SW_EINVALID saying why not. */
static int fetch(const char *url, const char *bundle, struct buf *body)
{
	char why[CURL_ERROR_SIZE] = "";
	struct buf cas = BUF_INIT;
	long code = 0;
	int err = bundle && *bundle ? acme_trusted_cas(bundle, &cas) : 0;
	CURL *c = err ? NULL : curl_easy_init();
	if (!err && !c)
		err = sw_error_set(SW_ERROR, "cannot set up an HTTPS client");
	if (err)
		goto done;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FETCH_SEC);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "slipway");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (cas.len) {
		struct curl_blob blob = { .data = cas.data, .len = cas.len,
					  .flags = CURL_BLOB_NOCOPY };
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		err = sw_error_set(SW_EINVALID, "%s", *why ? why : curl_easy_strerror(rc));
	else if (code != 200)
		err = sw_error_set(SW_EINVALID, "HTTP %ld", code);
done:
	curl_easy_cleanup(c);
	buf_release(&cas);
	return err;
}

int acme_directory_caa(const char *url, const char *bundle, struct strvec *ids)
{
	struct buf body = BUF_INIT;
	int err = fetch(url, bundle, &body);
	if (!err)
		err = acme_directory_parse_caa(body.data, body.len, ids);
	if (err) {
		char *why = xstrdup(sw_error_last());
		err = sw_error_set(SW_EINVALID, "the ACME directory %s cannot be read (%s): is "
				   "slipway.acmeDirectory right?", url, why);
		free(why);
	}
	buf_release(&body);
	return err;
}
