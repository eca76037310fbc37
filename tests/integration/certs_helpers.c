#define _GNU_SOURCE
#include "tests/integration/certs_helpers.h"

#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

const char certs_ok_server_py[] =
	"import http.server, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def do_GET(s):\n"
	"        b = b'ok\\n'\n"
	"        s.send_response(200); s.send_header('Content-Length', str(len(b)))\n"
	"        s.end_headers(); s.wfile.write(b)\n"
	"    def log_message(s, *a): pass\n"
	"http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()\n";

static const char pki_functions[] =
	"set -e\n"
	"ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
	"ca() {\n"
	"  openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj \"/CN=$1\" 2>/dev/null\n"
	"}\n"
	"leaf() {\n"
	"  openssl req -new $ec -keyout $1.key -out $1.csr -subj /CN=$2 2>/dev/null\n"
	"  printf 'subjectAltName=%s\\n' \"${4:-DNS:$2}\" > $1.ext\n"
	"  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $3 "
	"-extfile $1.ext -out $1.pem 2>/dev/null\n"
	"}\n";

char *certs_make_pki(struct app_sandbox *sb, const char *script)
{
	char *pki = th_path("%s/pki", sb->dir);
	char *sh = th_path("%s%s", pki_functions, script);
	free(SANDBOX_OK(sb, NULL, "mkdir", "-p", pki));
	free(SANDBOX_OK(sb, pki, "sh", "-c", sh));
	free(sh);
	return pki;
}

struct th_result certs_curl(const char *const *opts, const char *url)
{
	const char *argv[24] = { "curl", "-sS", "--max-time", "10" };
	size_t n = 4;
	for (size_t i = 0; opts && opts[i]; i++)
		argv[n++] = opts[i];
	argv[n++] = url;
	argv[n] = NULL;
	return th_run(NULL, NULL, NULL, argv);
}

struct th_result certs_https(const char *host, int port, const char *cacert,
			     const char *const *opts, const char *path)
{
	char *resolve = th_path("%s:%d:127.0.0.1", host, port);
	char *url = th_path("https://%s:%d%s", host, port, path);
	const char *argv[20] = { "--cacert", cacert, "--resolve", resolve };
	size_t n = 4;
	for (size_t i = 0; opts && opts[i]; i++)
		argv[n++] = opts[i];
	argv[n] = NULL;
	struct th_result r = certs_curl(argv, url);
	free(resolve);
	free(url);
	return r;
}

void certs_add_files(struct buf *b, const char *root, const char *const *files)
{
	for (size_t i = 0; files[i]; i++) {
		char *p = th_path("%s/%s", root, files[i]), *text = th_read(p, NULL);
		buf_addf(b, "== %s\n%s", files[i], text ? text : "(none)\n");
		free(text);
		free(p);
	}
}

char *certs_auto_state(struct app_sandbox *sb, const char *app)
{
	struct buf b = BUF_INIT;
	char *conf = th_path("router/apps/%s.conf", app), *pem = th_path("certs/%s.pem", app);
	certs_add_files(&b, sb->root, (const char *const[]){ conf, pem, NULL });
	struct th_result r = SANDBOX_RUN(sb, NULL, SLIPWAY_BIN, "certs:auto", "-a", app);
	buf_addf(&b, "== certs:auto\n%s", r.out);
	th_result_free(&r);
	r = SANDBOX_RUN(sb, NULL, SLIPWAY_BIN, "certs", "-a", app);
	buf_addf(&b, "== certs\n%s", r.out);
	th_result_free(&r);
	free(conf);
	free(pem);
	return buf_detach(&b);
}

void certs_refused_at(struct th_at at, const struct th_result *r, const char *start)
{
	cr_assert_eq(r->status, 1, "at %s:%d: exit %d: %s%s", at.file, at.line, r->status, r->out,
		     r->err);
	cr_assert_str_eq(r->out, "", "at %s:%d: stdout is not empty: %s", at.file, at.line, r->out);
	cr_assert(!strncmp(r->err, start, strlen(start)), "at %s:%d: stderr is\n%s\nnot from\n%s",
		  at.file, at.line, r->err, start);
	const char *nl = strchr(r->err, '\n');
	cr_assert(nl && !nl[1], "at %s:%d: not one line: %s", at.file, at.line, r->err);
}
