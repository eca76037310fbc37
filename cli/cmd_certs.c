/* certs, certs:add, certs:info, certs:remove: the certificate an app's HTTPS is served with. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "release/activate.h"
#include "runtime/https.h"
#include "runtime/logs.h"
#include "runtime/router.h"
#include "store/app.h"
#include "store/appctx.h"
#include "store/certs.h"
#include "store/hsts.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/say.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PEM_MAX (1 << 20)

static void utc(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

static void join(struct buf *out, const struct strvec *v)
{
	for (size_t i = 0; i < v->n; i++)
		buf_addf(out, "%s%s", i ? ", " : "", v->v[i]);
}

/* Heroku's "Certificate details:" block. */
static void print_details(const struct cert_info *info, const struct strvec *covered)
{
	struct buf names = BUF_INIT, domains = BUF_INIT;
	char starts[32], expires[32];
	join(&names, &info->names);
	join(&domains, covered);
	utc(info->starts, starts);
	utc(info->expires, expires);
	printf("Certificate details:\n"
	       "Common Name(s): %s\n"
	       "Domains:        %s\n"
	       "Expires At:     %s\n"
	       "Issuer:         %s\n"
	       "Starts At:      %s\n"
	       "Subject:        %s\n"
	       "%s\n",
	       names.data, covered->n ? domains.data : "none", expires, info->issuer, starts,
	       info->subject,
	       info->trusted       ? "SSL certificate is verified by a root authority."
	       : info->self_signed ? "SSL certificate is self signed."
				   : "SSL certificate is not trusted by this server's CAs.");
	buf_release(&names);
	buf_release(&domains);
}

/* The app's certificate and the hosts it covers; 0, or the exit code after the message. */
static int installed(const struct cli *c, struct cert_info *info, struct strvec *covered)
{
	struct strvec hosts = STRVEC_INIT;
	struct https_target t = https_target_of(c->app);
	int rc = app_check_exists(c->root, c->app) < 0 ||
			 https_target_hosts(c->root, &t, &hosts) < 0 ||
			 certs_info(c->root, c->app, info) < 0
		 ? cli_fail()
		 : 0;
	if (!rc)
		certs_covered(info, &hosts, covered);
	strvec_clear(&hosts);
	return rc;
}

int cmd_certs(struct cli *c)
{
	struct cert_info info = CERT_INFO_INIT;
	struct strvec covered = STRVEC_INIT;
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (!certs_has(c->root, c->app)) {
		printf("%s has no SSL certificates.\nUse slipway certs:add CRT KEY -a %s to add one.\n",
		       c->app, c->app);
		return 0;
	}
	int rc = installed(c, &info, &covered);
	if (!rc) {
		struct buf names = BUF_INIT;
		char expires[32];
		join(&names, &info.names);
		utc(info.expires, expires);
		int wn = (int)strlen(c->app) > 4 ? (int)strlen(c->app) : 4;
		int wc = names.len > 14 ? (int)names.len : 14;
		printf("%-*s  %-*s  %-20s  %-7s  %-4s  %s\n", wn, "Name", wc, "Common Name(s)",
		       "Expires", "Trusted", "Type", "Domains");
		printf("%-*s  %-*s  %-20s  %-7s  %-4s  %zu\n", wn, c->app, wc, names.data, expires,
		       info.trusted ? "True" : "False", "SNI", covered.n);
		buf_release(&names);
	}
	cert_info_release(&info);
	strvec_clear(&covered);
	return rc;
}

int cmd_certs_info(struct cli *c)
{
	struct cert_info info = CERT_INFO_INIT;
	struct strvec covered = STRVEC_INIT;
	int rc = installed(c, &info, &covered);
	if (!rc)
		print_details(&info, &covered);
	cert_info_release(&info);
	strvec_clear(&covered);
	return rc;
}

const struct opt certs_add_opts[] = {
	OPT_FLAG(0, "bypass", struct certs_add_args, bypass,
		 "take a chain the server's CAs do not verify (a private CA's)"),
	OPT_END_OF(struct certs_add_args),
};

/* All of stdin, up to PEM_MAX, into b. */
static int read_stdin(struct buf *b)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(0, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sw_error_errno(SW_ERROR, "cannot read the certificate from stdin");
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > PEM_MAX)
			return sw_error_set(SW_EINVALID, "the PEM bundle on stdin is too large (max %d "
					    "bytes)", PEM_MAX);
		buf_add(b, chunk, (size_t)n);
	}
}

int certs_read_pem(const struct cli *c, struct buf *text)
{
	for (int i = 0; i < c->nargs; i++) {
		char *data = NULL;
		size_t len = 0;
		int err = fs_read_file(c->args[i], PEM_MAX, &data, &len);
		if (err)
			return err;
		buf_add(text, data, len);
		buf_adds(text, "\n");
		free(data);
	}
	return c->nargs ? 0 : read_stdin(text);
}

int certs_read_split(const struct cli *c, struct buf *chain, struct buf *key)
{
	struct buf text = BUF_INIT;
	int err = certs_read_pem(c, &text);
	if (!err)
		err = certs_pem_split(text.data, text.len, chain, key);
	/* the key leaves no copy in freed memory */
	explicit_bzero(text.data, text.len);
	buf_release(&text);
	return err;
}

void certs_pem_release(struct buf *chain, struct buf *key)
{
	explicit_bzero(key->data, key->len);
	buf_release(chain);
	buf_release(key);
}

/* Installs chain and key under the app's lock, then points the router at them. */
static int add_locked(struct cli *c, const char *chain, const char *key, unsigned flags)
{
	struct strvec hosts = STRVEC_INIT, covered = STRVEC_INIT;
	struct cert_info info = CERT_INFO_INIT;
	struct https_target t = https_target_of(c->app);
	int replaced = https_target_hosts(c->root, &t, &hosts);
	if (replaced >= 0)
		replaced = https_cert_put(c->root, &t, &hosts, chain, key, flags, stdout, &info);
	if (replaced >= 0) {
		char *url = router_url(c->root, c->app);
		printf("%s now served at %s\n", c->app, url ? url : "?");
		free(url);
		certs_covered(&info, &hosts, &covered);
		print_details(&info, &covered);
		logs_event(c->root, c->app, "api", "%s SSL certificate by %s",
			   replaced ? "Update" : "Add", c->user);
	}
	cert_info_release(&info);
	strvec_clear(&hosts);
	strvec_clear(&covered);
	return replaced < 0 ? cli_fail() : 0;
}

/* Takes the app's lock, an interrupted switch undone first (release/activate.h). */
static int lock_app(struct cli *c, struct app_ctx *ctx)
{
	return app_ctx_open(ctx, c->root, c->app, APP_CTX_WRITE) < 0 ||
			       activate_recover(ctx, stderr) < 0
		       ? cli_fail()
		       : 0;
}

int certs_add_usage(const struct cli *c)
{
	if (c->nargs == 1)
		return cli_usage(c->cmd, "give both CRT and KEY, or neither and a PEM bundle "
					 "(certificate chain and key) on stdin");
	if (!c->nargs && isatty(0))
		return cli_usage(c->cmd, "give CRT and KEY, or a PEM bundle (certificate chain and "
					 "key) on stdin");
	return 0;
}

int cmd_certs_add(struct cli *c)
{
	const struct certs_add_args *a = c->options;
	struct buf chain = BUF_INIT, key = BUF_INIT;
	struct app_ctx ctx = APP_CTX_INIT;
	int rc = certs_add_usage(c);
	if (rc)
		return rc;
	if (c->shell_user && c->nargs) {
		/* a remote user's paths would be the server's files: what they send is on stdin */
		say(stderr, SAY_ERROR, "over ssh, certs:add reads the certificate chain and key "
				       "from stdin: cat CRT KEY | slipway certs:add -a %s", c->app);
		return 1;
	}
	if (app_check_exists(c->root, c->app) < 0 || certs_read_split(c, &chain, &key) < 0)
		rc = cli_fail();
	else if (!(rc = lock_app(c, &ctx)))
		rc = add_locked(c, chain.data, key.data, a->bypass ? CERTS_BYPASS : 0);
	app_ctx_release(&ctx);
	certs_pem_release(&chain, &key);
	return rc;
}

int cmd_certs_add_forward(struct cli *c)
{
	struct buf text = BUF_INIT;
	int rc = certs_add_usage(c);
	if (rc || c->nargs != 2)
		return rc;
	/* the files are this machine's: they go to the server on ssh's stdin */
	int fd = memfd_create("slipway-certs", MFD_CLOEXEC);
	if (fd < 0)
		rc = sw_error_errno(SW_ERROR, "cannot hold the certificate for ssh");
	if (!rc)
		rc = certs_read_pem(c, &text);
	if (!rc)
		rc = fs_write_all(fd, text.data, text.len);
	if (!rc && (lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, 0) < 0))
		rc = sw_error_errno(SW_ERROR, "cannot hold the certificate for ssh");
	if (fd >= 0)
		close(fd);
	explicit_bzero(text.data, text.len);
	buf_release(&text);
	if (rc)
		return cli_fail();
	c->nargs = 0;
	return 0;
}

struct certs_remove_args {
	const char *confirm;
};

const struct opt certs_remove_opts[] = {
	OPT_STRING(0, "confirm", struct certs_remove_args, confirm, "APP", "the app name",
		   "the app's name again, to confirm"),
	OPT_END_OF(struct certs_remove_args),
};

static int remove_locked(struct cli *c)
{
	struct https_target t = https_target_of(c->app);
	if (https_cert_remove(c->root, &t, stdout) < 0)
		return cli_fail();
	logs_event(c->root, c->app, "api", "Remove SSL certificate by %s", c->user);
	return 0;
}

int cmd_certs_remove(struct cli *c)
{
	const struct certs_remove_args *a = c->options;
	struct app_ctx ctx = APP_CTX_INIT;
	if (app_check_exists(c->root, c->app) < 0)
		return cli_fail();
	if (!certs_has(c->root, c->app)) {
		say(stderr, SAY_ERROR, "%s has no SSL certificate", c->app);
		return 1;
	}
	if (!a->confirm || strcmp(a->confirm, c->app)) {
		struct hsts h = HSTS_INIT;
		say(stderr, SAY_ERROR, "This will remove the SSL certificate of %s: it will be served "
				       "over HTTP only.", c->app);
		if (hsts_read(c->root, c->app, &h) == 0 && h.on)
			say(stderr, SAY_ERROR, "HSTS is on (max-age=%ld): browsers that saw it will not "
					       "load %s over HTTP until that much time has passed.",
			    hsts_max_age(h.step), c->app);
		say(stderr, SAY_ERROR, "To proceed, run: slipway certs:remove -a %s --confirm %s",
		    c->app, c->app);
		return 1;
	}
	int rc = lock_app(c, &ctx);
	if (!rc)
		rc = remove_locked(c);
	app_ctx_release(&ctx);
	return rc;
}
