/* Slugs in an S3-compatible store (s3.h). */
#define _GNU_SOURCE
#include "store/s3.h"

#include "store/cas.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/json.h"
#include "util/util.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SHA-256 of no bytes: the payload hash of a request without a body */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ERROR_BODY_MAX (64 << 10)
#define LIST_BODY_MAX (16 << 20)

/* One request and what came back. */
struct req {
	const char *method;        /* GET, PUT, HEAD, DELETE */
	const char *key;           /* NULL: the bucket itself */
	const char *query;         /* encoded, its parameters sorted (SigV4 wants them so); or NULL */
	const char *payload_hash;  /* NULL: EMPTY_SHA256 */
	FILE *upload;              /* PUT's body */
	uint64_t upload_size;
	/* a 2xx GET's body goes here, when set; its error stops the transfer and is returned */
	int (*sink)(void *ctx, const void *data, size_t len);
	void *sink_ctx;
	int sink_err;
	struct buf body;           /* other bodies: errors, listings */
	size_t body_max;
	long status;
	uint64_t length;           /* Content-Length of the answer (HEAD: the object's size) */
};

static void req_release(struct req *r)
{
	buf_release(&r->body);
}

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct req *r = p;
	size_t len = size * n;
	if (r->sink && r->status / 100 == 2) {
		if ((r->sink_err = r->sink(r->sink_ctx, data, len)) < 0)
			return 0;
		return len;
	}
	if (r->body.len + len > r->body_max)
		return 0;
	buf_add(&r->body, data, len);
	return len;
}

/* The status is known before the body arrives: the body callback needs it. */
static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct req *r = p;
	size_t len = size * n;
	int code;
	if (len > 9 && !strncmp(data, "HTTP/", 5) && sscanf(data, "HTTP/%*s %d", &code) == 1)
		r->status = code;
	return len;
}

/* The text of <tag> in xml (from), malloc'ed, entities decoded; NULL if absent. */
static char *xml_text(const char *xml, const char *tag, const char **after)
{
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	const char *a = strstr(xml, open);
	if (!a)
		return NULL;
	a += strlen(open);
	const char *b = strstr(a, close);
	if (!b)
		return NULL;
	if (after)
		*after = b + strlen(close);
	struct buf t = BUF_INIT;
	static const struct { const char *ent, *ch; } ents[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" },
	};
	while (a < b) {
		size_t i, k = sizeof(ents) / sizeof(ents[0]);
		for (i = 0; i < k; i++)
			if (!strncmp(a, ents[i].ent, strlen(ents[i].ent)))
				break;
		if (i < k) {
			buf_adds(&t, ents[i].ch);
			a += strlen(ents[i].ent);
		} else {
			buf_add(&t, a++, 1);
		}
	}
	return buf_detach(&t);
}

/* The one-line error for a request that failed at the HTTP level. */
static int http_error(const struct s3 *s3, const struct req *r)
{
	char *code = r->body.len ? xml_text(r->body.data, "Code", NULL) : NULL;
	char *msg = r->body.len ? xml_text(r->body.data, "Message", NULL) : NULL;
	int err;
	if ((code && !strcmp(code, "NoSuchBucket")) || (r->status == 404 && !r->key))
		err = sw_error_set(SW_ERROR, "S3 bucket '%s' does not exist at %s", s3->bucket,
				   s3->endpoint);
	else if (r->status == 404 && (!code || !strcmp(code, "NoSuchKey")))
		err = sw_error_set(SW_ENOTFOUND, "S3 has no object '%s' in bucket '%s'",
				   r->key ? r->key : "", s3->bucket);
	else
		err = sw_error_set(SW_ERROR, "S3 refused %s of '%s': %ld%s%s%s%s", r->method,
				   r->key ? r->key : s3->bucket, r->status, code ? " " : "",
				   code ? code : "", msg ? ": " : "", msg ? msg : "");
	free(code);
	free(msg);
	return err;
}

static int perform(const struct s3 *s3, struct req *r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct buf url = BUF_INIT;
	struct curl_slist *hdrs = NULL;
	char *sigv4 = xasprintf("aws:amz:%s:s3", s3->region);
	char *hash_hdr = xasprintf("x-amz-content-sha256: %s",
				   r->payload_hash ? r->payload_hash : EMPTY_SHA256);
	int err = 0;

	buf_addf(&url, "%s/%s", s3->endpoint, s3->bucket);
	if (r->key)
		buf_addf(&url, "/%s", r->key);
	if (r->query)
		buf_addf(&url, "?%s", r->query);
	if (!r->body_max)
		r->body_max = ERROR_BODY_MAX;
	CURL *c = curl_easy_init();
	if (!c) {
		err = sw_error_set(SW_ERROR, "cannot start an S3 request (libcurl)");
		goto done;
	}
	/*
	 * The payload's hash is ours to send (libcurl 7.88 would sign a hash of
	 * nothing).  No other header of our own: libcurl signs every one it is
	 * given, even "Expect:" that only removes one, and the store then sees
	 * a signed header that never came.
	 */
	hdrs = curl_slist_append(hdrs, hash_hdr);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
	/* apart, never "id:secret" in one string: tempauth's key ids hold a ':' */
	curl_easy_setopt(c, CURLOPT_USERNAME, s3->key_id);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s3->secret);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* slugs are tens of MB: larger reads, fewer writes and hasher calls */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L << 10);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, r->upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->upload_size);
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_off_t length = -1;
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
	r->length = length > 0 ? (uint64_t)length : 0;
	if (rc == CURLE_WRITE_ERROR && r->sink_err < 0) {
		err = r->sink_err; /* its message is set */
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		   rc == CURLE_OPERATION_TIMEDOUT || (rc != CURLE_OK && !r->status)) {
		err = sw_error_set(SW_ERROR, "S3 endpoint '%s' is unreachable: %s", s3->endpoint,
				   *errbuf ? errbuf : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK && r->status / 100 == 2) {
		err = sw_error_set(SW_ERROR, "S3 %s of '%s' broke off: %s", r->method,
				   r->key ? r->key : s3->bucket, *errbuf ? errbuf : curl_easy_strerror(rc));
	} else if (r->status / 100 != 2) {
		err = http_error(s3, r);
	}
done:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	buf_release(&url);
	free(sigv4);
	free(hash_hdr);
	return err;
}

static int read_secret(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return sw_error_errno(SW_EINVALID, "cannot read slipway.s3SecretFile '%s'", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sw_error_set(SW_EINVALID, "slipway.s3SecretFile '%s' is not a file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return sw_error_set(SW_EINVALID, "slipway.s3SecretFile '%s' is readable by others "
				    "(make it private: chmod 600 %s)", path, path);
	}
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return sw_error_errno(SW_EINVALID, "cannot read slipway.s3SecretFile '%s'", path);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (!n)
		return sw_error_set(SW_EINVALID, "slipway.s3SecretFile '%s' is empty", path);
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* A required setting: SW_EINVALID naming it when unset. */
static int required(struct settings *st, const struct setting *def, char **out)
{
	int err = settings_string(st, def, out);
	if (!err && (!*out || !**out))
		err = sw_error_set(SW_EINVALID, "slipway.s3Endpoint is set but %s is not "
				   "(git config --global %s ...)", def->key, def->key);
	return err;
}

int s3_open(struct s3 *s3, const char *root)
{
	struct settings *st = NULL;
	char *secret_file = NULL;
	int err;
	memset(s3, 0, sizeof(*s3));
	if ((err = settings_open(&st, root, NULL)))
		return err;
	if ((err = settings_string(st, &SETTING_S3_ENDPOINT, &s3->endpoint)))
		goto done;
	if (!s3->endpoint || !*s3->endpoint) {
		err = SW_ENOTFOUND;
		goto done;
	}
	if (strncmp(s3->endpoint, "http://", 7) && strncmp(s3->endpoint, "https://", 8)) {
		err = settings_blame(st, &SETTING_S3_ENDPOINT,
				     sw_error_set(SW_EINVALID, "invalid S3 endpoint '%s': use an "
						  "http:// or https:// URL", s3->endpoint));
		goto done;
	}
	for (size_t n = strlen(s3->endpoint); n && s3->endpoint[n - 1] == '/'; n--)
		s3->endpoint[n - 1] = '\0';
	if ((err = required(st, &SETTING_S3_BUCKET, &s3->bucket)) ||
	    (err = settings_string(st, &SETTING_S3_REGION, &s3->region)) ||
	    (err = required(st, &SETTING_S3_ACCESS_KEY_ID, &s3->key_id)) ||
	    (err = required(st, &SETTING_S3_SECRET_FILE, &secret_file)) ||
	    (err = read_secret(secret_file, &s3->secret)))
		goto done;
done:
	settings_free(st);
	free(secret_file);
	if (err)
		s3_release(s3);
	return err;
}

void s3_release(struct s3 *s3)
{
	if (s3->secret)
		explicit_bzero(s3->secret, strlen(s3->secret));
	free(s3->endpoint);
	free(s3->bucket);
	free(s3->region);
	free(s3->key_id);
	free(s3->secret);
	memset(s3, 0, sizeof(*s3));
}

void s3_json_write(const struct s3 *s3, struct buf *out)
{
	struct json j = JSON_INIT(out);
	json_object_begin(&j, NULL);
	json_string(&j, "endpoint", s3->endpoint);
	json_string(&j, "bucket", s3->bucket);
	json_string(&j, "region", s3->region);
	json_string(&j, "key_id", s3->key_id);
	json_string(&j, "secret", s3->secret);
	json_object_end(&j);
}

/* A member of an S3 document: each is required. */
static int json_member(const char *text, const char *key, char **out)
{
	int err = json_flat_get(text, key, out);
	if (err == SW_EINVALID)
		return sw_error_set(err, "the S3 settings sent are not a flat JSON document");
	if (!err && !**out)
		err = SW_ENOTFOUND;
	if (err == SW_ENOTFOUND)
		return sw_error_set(SW_EINVALID, "the S3 settings sent have no '%s'", key);
	return err;
}

int s3_json_read(struct s3 *s3, const char *text)
{
	int err;
	memset(s3, 0, sizeof(*s3));
	if ((err = json_member(text, "endpoint", &s3->endpoint)) ||
	    (err = json_member(text, "bucket", &s3->bucket)) ||
	    (err = json_member(text, "region", &s3->region)) ||
	    (err = json_member(text, "key_id", &s3->key_id)) ||
	    (err = json_member(text, "secret", &s3->secret)))
		goto done;
	if (strncmp(s3->endpoint, "http://", 7) && strncmp(s3->endpoint, "https://", 8))
		err = sw_error_set(SW_EINVALID, "invalid S3 endpoint '%s': use an http:// or "
				   "https:// URL", s3->endpoint);
done:
	if (err)
		s3_release(s3);
	return err;
}

char *s3_slug_key(const char *hex)
{
	return xasprintf(S3_SLUG_PREFIX "%s.tar.zst", hex);
}

int s3_put_file(const struct s3 *s3, const char *key, const char *path, const char *sha256)
{
	struct req r = { .method = "PUT", .key = key, .payload_hash = sha256,
			 .body = BUF_INIT };
	struct stat st;
	int err;
	if (!(r.upload = fopen(path, "rbe")))
		return sw_error_errno(SW_ERROR, "cannot open '%s'", path);
	if (fstat(fileno(r.upload), &st) < 0) {
		err = sw_error_errno(SW_ERROR, "cannot stat '%s'", path);
	} else {
		r.upload_size = (uint64_t)st.st_size;
		err = perform(s3, &r);
	}
	fclose(r.upload);
	req_release(&r);
	return err;
}

int s3_get(const struct s3 *s3, const char *key,
	   int (*sink)(void *ctx, const void *data, size_t len), void *ctx)
{
	struct req r = { .method = "GET", .key = key, .sink = sink, .sink_ctx = ctx,
			 .body = BUF_INIT };
	int err = perform(s3, &r);
	req_release(&r);
	return err;
}

int s3_head(const struct s3 *s3, const char *key, uint64_t *size_out)
{
	struct req r = { .method = "HEAD", .key = key, .body = BUF_INIT };
	int err = perform(s3, &r);
	if (err == SW_ERROR && r.status >= 400 && r.status != 404 && !r.body.len) {
		/* a HEAD's answer has no body: ask again for one, for S3's <Code> */
		struct req g = { .method = "GET", .body = BUF_INIT,
				 .query = "list-type=2&max-keys=1" };
		err = perform(s3, &g);
		if (!err || !g.status)
			err = http_error(s3, &r);
		req_release(&g);
	}
	if (err == SW_ENOTFOUND)
		sw_error_set(SW_ENOTFOUND, "S3 has no object '%s' in bucket '%s'", key, s3->bucket);
	if (!err && size_out)
		*size_out = r.length;
	req_release(&r);
	return err;
}

int s3_delete(const struct s3 *s3, const char *key)
{
	struct req r = { .method = "DELETE", .key = key, .body = BUF_INIT };
	int err = perform(s3, &r);
	if (err == SW_ENOTFOUND)
		err = 0;
	req_release(&r);
	return err;
}

static void add_encoded(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~')
			buf_add(b, s, 1);
		else
			buf_addf(b, "%%%02X", ch);
	}
}

/* "2026-12-06T21:54:02.000Z" */
static time_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

/* Calls fn for each <Contents> of one page; *token: the next page's, or NULL. */
static int list_page(const char *xml, const char *prefix, char **token,
		     int (*fn)(const char *, uint64_t, time_t, void *), void *ctx)
{
	const char *p = xml, *after;
	int err = 0;
	while (!err && (p = strstr(p, "<Contents>"))) {
		const char *end = strstr(p, "</Contents>");
		if (!end)
			break;
		char *block = xstrndup(p, (size_t)(end - p));
		char *key = xml_text(block, "Key", &after);
		char *size = xml_text(block, "Size", NULL);
		char *mtime = xml_text(block, "LastModified", NULL);
		if (key && !strncmp(key, prefix, strlen(prefix)))
			err = fn(key, size ? strtoull(size, NULL, 10) : 0, parse_time(mtime), ctx);
		free(key);
		free(size);
		free(mtime);
		free(block);
		p = end;
	}
	char *trunc = xml_text(xml, "IsTruncated", NULL);
	*token = trunc && !strcmp(trunc, "true") ? xml_text(xml, "NextContinuationToken", NULL) : NULL;
	free(trunc);
	return err;
}

int s3_list(const struct s3 *s3, const char *prefix,
	    int (*fn)(const char *key, uint64_t size, time_t mtime, void *ctx), void *ctx)
{
	char *token = NULL;
	int err = 0;
	do {
		struct req r = { .method = "GET", .body = BUF_INIT, .body_max = LIST_BODY_MAX };
		struct buf q = BUF_INIT;
		/* sorted by name, as SigV4's canonical query is: libcurl 7.88 does not sort */
		if (token) {
			buf_adds(&q, "continuation-token=");
			add_encoded(&q, token);
			buf_adds(&q, "&");
		}
		buf_adds(&q, "list-type=2&prefix=");
		add_encoded(&q, prefix);
		r.query = q.data;
		free(token);
		token = NULL;
		if (!(err = perform(s3, &r)))
			err = list_page(r.body.data, prefix, &token, fn, ctx);
		buf_release(&q);
		req_release(&r);
	} while (!err && token);
	free(token);
	return err;
}

int s3_slug_push(const struct s3 *s3, const char *root, const char *hex, int *sent)
{
	char *key = NULL, *path = NULL;
	uint64_t size = 0, have = 0;
	int err;
	if (sent)
		*sent = 0;
	if (!cas_valid_hex(hex))
		return sw_error_set(SW_EINVALID, "invalid slug name '%s'", hex);
	if ((err = cas_lookup(root, hex, &size)))
		return err == SW_ENOTFOUND ? sw_error_set(err, "slug %s is not in the store", hex) : err;
	key = s3_slug_key(hex);
	path = cas_path(root, hex);
	err = s3_head(s3, key, &have);
	if (!err && have != size) /* a partial object some other writer left */
		err = SW_ENOTFOUND;
	if (err == SW_ENOTFOUND) {
		err = s3_put_file(s3, key, path, hex);
		if (!err && sent)
			*sent = 1;
	}
	free(key);
	free(path);
	return err;
}

/* cas_store_stream()'s source: the slug's object, ctx the fetch. */
struct fetch {
	const struct s3 *s3;
	const char *key;
};

static int fetch_source(void *ctx, struct cas_sink *sink)
{
	const struct fetch *f = ctx;
	return s3_get(f->s3, f->key, cas_sink_write, sink);
}

int s3_slug_fetch(const struct s3 *s3, const char *root, const char *hex, int *fetched)
{
	struct cas_stream s = CAS_STREAM_INIT;
	struct fetch f = { .s3 = s3 };
	int err;
	if (fetched)
		*fetched = 0;
	if (!cas_valid_hex(hex))
		return sw_error_set(SW_EINVALID, "invalid slug name '%s'", hex);
	f.key = s3_slug_key(hex);
	s.what = "its object";
	s.source = fetch_source;
	s.ctx = &f;
	if ((err = cas_store_stream(root, hex, &s)) < 0)
		sw_error_prefix(err, "cannot fetch slug %.12s... from S3 at %s/%s: ", hex,
				s3->endpoint, s3->bucket);
	else if (fetched)
		*fetched = s.stored;
	free((char *)f.key);
	return err;
}
