#define _GNU_SOURCE
#include "tests/release_helpers.h"

#include "store/app.h"
#include "store/cas.h"
#include "store/ledger.h"
#include "store/slug.h"
#include "util/error.h"
#include "util/util.h"

#include <criterion/criterion.h>
#include <git2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *rh_root(void)
{
	char *root = th_sandbox();
	struct strvec names = STRVEC_INIT;
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "SLIPWAY_", 8) && strchr(*e, '='))
			strvec_pushf(&names, "%.*s", (int)(strchr(*e, '=') - *e), *e);
	for (size_t i = 0; i < names.n; i++)
		unsetenv(names.v[i]);
	strvec_clear(&names);
	setenv("HOME", root, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("GIT_CONFIG_GLOBAL");
	/* libgit2 may have looked for its global config already (a HOME read before) */
	git_libgit2_init();
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, root), 0);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, root), 0);
	return root;
}

void rh_app_at(struct th_at at, const char *root, const char *app)
{
	struct app_create_opts o = APP_CREATE_OPTS_INIT;
	o.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(root, app, &o), 0, "at %s:%d: %s", at.file, at.line,
		     sw_error_last());
}

void rh_slug_at(struct th_at at, const char *root, char hex[65], ...)
{
	char *tree = th_path("%s/slug-tree-XXXXXX", root);
	cr_assert(mkdtemp(tree), "at %s:%d: mkdtemp", at.file, at.line);
	va_list ap;
	va_start(ap, hex);
	const char *name;
	while ((name = va_arg(ap, const char *))) {
		const char *content = va_arg(ap, const char *);
		const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		const char *dot = strrchr(base, '.');
		int exe = !dot || !strcmp(dot, ".sh");
		char *path = th_path("%s/%s", tree, name);
		th_write(path, content, exe && strcmp(base, "Procfile") ? 0755 : 0644);
		free(path);
	}
	va_end(ap);
	struct slug_stats st;
	int fd;
	char *tmp;
	cr_assert_eq(cas_tmpfile(root, &fd, &tmp), 0, "at %s:%d: %s", at.file, at.line,
		     sw_error_last());
	cr_assert_eq(slug_write(fd, tree, NULL, &st), 0, "at %s:%d: %s", at.file, at.line,
		     sw_error_last());
	cr_assert_eq(cas_publish_hashed(root, fd, tmp, st.sha256), 0, "at %s:%d: %s", at.file,
		     at.line, sw_error_last());
	memcpy(hex, st.sha256, 65);
	free(tmp);
	struct th_result r = th_runv(NULL, NULL, "rm", "-rf", tree, NULL);
	th_result_free(&r);
	free(tree);
}

static struct ledger *open_ledger(struct th_at at, const char *root, const char *app)
{
	struct ledger *l = NULL;
	char *repo = app_repo_path(root, app);
	cr_assert_eq(ledger_open(&l, repo), 0, "at %s:%d: %s", at.file, at.line, sw_error_last());
	free(repo);
	return l;
}

int rh_release_at(struct th_at at, const char *root, const char *app, const char *hex,
		  enum release_status status, ...)
{
	struct release r = RELEASE_INIT;
	struct ledger *l = open_ledger(at, root, app);
	va_list ap;
	va_start(ap, status);
	const char *type;
	while ((type = va_arg(ap, const char *)))
		proc_list_set(&r.procs, type, va_arg(ap, const char *));
	va_end(ap);
	if (hex)
		memcpy(r.slug, hex, 65);
	r.status = status;
	r.description = xstrdup(hex ? "Deploy 1234567" : "Set X config vars");
	r.user = xstrdup("alice@example.com");
	if (hex)
		snprintf(r.commit, sizeof(r.commit), "%s", "1234567890123456789012345678901234567890");
	cr_assert_eq(ledger_append(l, &r), 0, "at %s:%d: %s", at.file, at.line, sw_error_last());
	int v = r.version;
	release_release(&r);
	ledger_free(l);
	return v;
}

int rh_current_at(struct th_at at, const char *root, const char *app)
{
	struct ledger *l = open_ledger(at, root, app);
	int v = -1;
	cr_assert_eq(ledger_current(l, &v), 0, "at %s:%d: %s", at.file, at.line, sw_error_last());
	ledger_free(l);
	return v;
}

int rh_latest_at(struct th_at at, const char *root, const char *app)
{
	struct ledger *l = open_ledger(at, root, app);
	int v = -1;
	cr_assert_eq(ledger_latest(l, &v), 0, "at %s:%d: %s", at.file, at.line, sw_error_last());
	ledger_free(l);
	return v;
}

void rh_read_at(struct th_at at, const char *root, const char *app, int version,
		struct release *r)
{
	struct ledger *l = open_ledger(at, root, app);
	cr_assert_eq(ledger_read(l, version, LEDGER_READ_ALL, r), 0, "at %s:%d: %s", at.file,
		     at.line, sw_error_last());
	ledger_free(l);
}

void rh_app_config_at(struct th_at at, const char *root, const char *app, const char *key,
		      const char *value)
{
	char *config = th_path("%s/apps/%s.git/config", root, app);
	struct th_result r = th_runv(NULL, NULL, "git", "config", "--file", config, "--add", key,
				     value, NULL);
	cr_assert_eq(r.status, 0, "at %s:%d: git config %s: %s", at.file, at.line, key, r.err);
	th_result_free(&r);
	free(config);
}

void rh_out_open(struct rh_out *o)
{
	o->text = NULL;
	o->len = 0;
	o->f = open_memstream(&o->text, &o->len);
	cr_assert(o->f, "open_memstream");
}

const char *rh_out_text(struct rh_out *o)
{
	fflush(o->f);
	return o->text ? o->text : "";
}

void rh_out_close(struct rh_out *o)
{
	if (o->f)
		fclose(o->f);
	free(o->text);
	o->f = NULL;
	o->text = NULL;
}

pid_t rh_child_at(struct th_at at, const char *log, const char *input, void (*fn)(void *ctx),
		  void *ctx)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0, "at %s:%d: fork", at.file, at.line);
	if (pid == 0) {
		int in = open(input ? input : "/dev/null", O_RDONLY);
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(111);
		close(in);
		close(out);
		fn(ctx);
		fflush(NULL);
		_exit(0);
	}
	return pid;
}

int rh_child_wait(pid_t pid)
{
	int st = 0;
	pid_t got;
	while ((got = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	cr_assert_eq(got, pid, "waitpid %d", (int)pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
