#define _GNU_SOURCE
#include "runtime/services.h"

#include "runtime/supervisor.h"
#include "store/app.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/run.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FORMATION_FILE "slipway-formation"
#define FORMATION_MAX (64 * 1024)
#define PORT_FIRST 20000
#define PORT_LAST 29999

int services_runtime_up(const char *root)
{
	char *scandir = paths_services_dir(root);
	int up = 0;
	if (fs_is_dir(scandir)) {
		struct supervisor_status st;
		up = supervisor_status(root, &st) == 0 && st.running;
	}
	free(scandir);
	return up;
}

/*
 * How many instances of each of r's process types the formation runs:
 * counts[i] for r->procs.items[i] (the release type never runs as one).
 * Without a formation file, Heroku's default: one web.
 */
static int formation_counts(const char *root, const char *app, const struct release *r,
			    int *counts)
{
	char *path = paths_repo_file(root, app, FORMATION_FILE), *text = NULL;
	size_t len = 0;
	int err = fs_read_file(path, FORMATION_MAX, &text, &len);
	free(path);
	for (size_t i = 0; i < r->procs.n; i++)
		counts[i] = err == SW_ENOTFOUND && !strcmp(r->procs.items[i].name, "web");
	if (err == SW_ENOTFOUND)
		return 0;
	if (err)
		return err;
	struct text_lines it = TEXT_LINES_INIT(text, len);
	const char *s;
	size_t n;
	while (text_lines_next(&it, &s, &n)) {
		const char *eq = memchr(s, '=', n);
		size_t tl = eq ? (size_t)(eq - s) : 0;
		for (size_t i = 0; eq && i < r->procs.n; i++) {
			const char *name = r->procs.items[i].name;
			if (strlen(name) == tl && !strncmp(name, s, tl) && strcmp(name, "release")) {
				int c = atoi(eq + 1);
				counts[i] = c < 0 ? 0 : c > 100 ? 100 : c;
			}
		}
	}
	free(text);
	return 0;
}

int services_wanted(const char *root, const char *app, const struct release *r,
		    struct strvec *instances)
{
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(*counts));
	int err = formation_counts(root, app, r, counts);
	for (size_t i = 0; !err && i < r->procs.n; i++)
		for (int k = 1; k <= counts[i]; k++)
			strvec_pushf(instances, "%s.%d", r->procs.items[i].name, k);
	free(counts);
	return err;
}

/* A port of the range that nothing listens on now. */
static int pick_port(int *port)
{
	static unsigned seed;
	if (!seed)
		seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	for (int tries = 0; tries < 200; tries++) {
		int p = PORT_FIRST + (int)(rand_r(&seed) % (PORT_LAST - PORT_FIRST + 1));
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok) {
			*port = p;
			return 0;
		}
	}
	return sw_error_set(SW_ERROR, "no free port in %d-%d", PORT_FIRST, PORT_LAST);
}

static int accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static char *self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * A file of a service directory still under its dot-name: written plainly,
 * without fsync - a service directory is rebuilt from the ledger, never
 * trusted across a crash, and the switch should not wait for the disk.
 */
static int put_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int err = fd < 0 || fs_write_all(fd, data, len) < 0
		  ? sw_error_errno(SW_ERROR, "cannot write '%s'", path) : 0;
	if (fd >= 0 && close(fd) < 0 && !err)
		err = sw_error_errno(SW_ERROR, "cannot write '%s'", path);
	free(path);
	return err;
}

/* Writes the service directory of one instance under a dot-name, then renames it in. */
static int write_service(const char *root, const char *app, const struct release *r,
			 const char *instance, int port, const char *name)
{
	char *scandir = paths_services_dir(root), *tmp = NULL, *self = self_exe();
	char *final = xasprintf("%s/%s", scandir, name);
	struct buf run = BUF_INIT;
	int err;

	if (!self) {
		err = sw_error_errno(SW_ERROR, "cannot find the slipway executable");
		goto done;
	}
	if ((err = fs_mkdtemp(scandir, ".new-", &tmp)))
		goto done;
	buf_adds(&run, "#!/bin/sh\n# written by slipway: one process instance\nexec ");
	buf_add_shell_quoted(&run, self);
	buf_adds(&run, " --root ");
	buf_add_shell_quoted(&run, root);
	buf_addf(&run, " instance:run %s --port %d --release v%d -a %s 2>&1\n", instance, port,
		 r->version, app);
	char ptext[16];
	int pn = snprintf(ptext, sizeof(ptext), "%d\n", port);
	if (!(err = put_file(tmp, "run", run.data, run.len, 0755)) &&
	    !(err = put_file(tmp, "port", ptext, (size_t)pn, 0644))) {
		fs_rm_rf(final); /* a leftover of the same name is a killed switch's */
		if (rename(tmp, final) < 0)
			err = sw_error_errno(SW_ERROR, "cannot add the service '%s'", name);
	}
done:
	if (err && tmp)
		fs_rm_rf(tmp);
	buf_release(&run);
	free(final);
	free(tmp);
	free(self);
	free(scandir);
	return err;
}

/* `s6-svstat -o fields dir` into out; 0 when s6 answered. */
static int svstat(const char *dir, const char *fields, struct buf *out)
{
	const char *argv[] = { "s6-svstat", "-o", fields, dir, NULL };
	int status = -1;
	return supervisor_s6(argv, &status, out) == 0 && status == 0 ? 0 : -1;
}

/* The pid s6 runs for the service, 0 when it is down. */
static long service_pid(const char *dir)
{
	struct buf out = BUF_INIT;
	long pid = svstat(dir, "pid", &out) == 0 ? atol(out.data) : 0;
	buf_release(&out);
	return pid > 0 ? pid : 0;
}

static void pause_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

/* Waits until the instance passes the gate; 0, or SW_ETIMEOUT with *why. */
static int gate(const char *dir, const char *instance, int port, int boot_sec, char **why)
{
	int web = !strncmp(instance, "web.", 4);
	long long end = run_now_ms() + (web ? boot_sec * 1000LL : 3000);
	long first = 0;
	while (run_now_ms() < end) {
		if (web) {
			/* the port is the instance's: whoever accepts on it is the new process */
			if (accepts(port))
				return 0;
			pause_ms(10);
			continue;
		}
		long pid = service_pid(dir);
		if (!first)
			first = pid;
		if (first && pid && pid != first)
			break; /* it exited and s6 started it again */
		pause_ms(50);
	}
	if (!web && first && service_pid(dir) == first)
		return 0;
	*why = web ? xasprintf("%s did not bind to $PORT within %d s", instance, boot_sec)
		   : xasprintf("%s did not stay up for 3 s", instance);
	return SW_ETIMEOUT;
}

static void retire_list(const char *root, const struct strvec *gone);

int services_start(const char *root, const char *app, const struct release *r,
		   const struct strvec *instances, struct strvec *started, char **why)
{
	char *scandir = paths_services_dir(root);
	int boot = 60, err;
	int *ports = xcalloc(instances->n ? instances->n : 1, sizeof(*ports));

	*why = NULL;
	if ((err = settings_read_seconds(root, app, &SETTING_BOOT_TIMEOUT, &boot)))
		goto done;
	for (size_t i = 0; i < instances->n && !err; i++) {
		int port = 0;
		char *name = xasprintf("%s.v%d.%s", app, r->version, instances->v[i]);
		if (!(err = pick_port(&port)) &&
		    !(err = write_service(root, app, r, instances->v[i], port, name))) {
			ports[started->n] = port;
			strvec_push(started, name);
		}
		free(name);
	}
	if (!err)
		err = supervisor_rescan(root);
	for (size_t i = 0; i < started->n && !err; i++) {
		char *dir = xasprintf("%s/%s", scandir, started->v[i]);
		err = gate(dir, instances->v[i], ports[i], boot, why);
		free(dir);
	}
	if (err) {
		if (!*why)
			*why = xstrdup(sw_error_last());
		retire_list(root, started); /* the new ones go; the old ones never noticed */
		strvec_clear(started);
	}
done:
	free(ports);
	free(scandir);
	return err;
}

/* "APP.vN.TYPE.I": a service of app. */
static int is_service_of(const char *name, const char *app)
{
	size_t n = strlen(app);
	return !strncmp(name, app, n) && name[n] == '.' && name[n + 1] == 'v' &&
	       name[n + 2] >= '0' && name[n + 2] <= '9';
}

int services_retire(const char *root, const char *app, const struct strvec *keep)
{
	char *scandir = paths_services_dir(root);
	struct strvec gone = STRVEC_INIT;
	DIR *d = opendir(scandir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)))
			if (is_service_of(e->d_name, app)) {
				int kept = 0;
				for (size_t i = 0; keep && i < keep->n; i++)
					kept |= !strcmp(keep->v[i], e->d_name);
				if (!kept)
					strvec_push(&gone, e->d_name);
			}
		closedir(d);
		retire_list(root, &gone);
	}
	strvec_clear(&gone);
	free(scandir);
	return 0;
}

/* Removes what earlier retirements moved aside, once no supervisor runs in it. */
static void sweep_gone(const char *scandir)
{
	DIR *d = opendir(scandir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, ".gone-", 6))
			continue;
		char *top = xasprintf("%s/%s", scandir, e->d_name), *svc = xasprintf("%s/svc", top);
		const char *ok[] = { "s6-svok", svc, NULL };
		int status = 0;
		if (!fs_exists(svc) || (supervisor_s6(ok, &status, NULL) == 0 && status != 0))
			fs_rm_rf(top);
		free(svc);
		free(top);
	}
	if (d)
		closedir(d);
}

/*
 * Retires the named services without waiting for them: each gets SIGTERM
 * now (s6-svc -d; its instance passes it on and sends SIGKILL after the
 * stop timeout, runtime/instance.h), its directory is moved aside at once
 * so it is no service of the app any more, and s6-svscan is told to let its
 * supervisor go once the process is down.  What is moved aside is removed
 * by a later retirement.
 */
static void move_aside(const char *scandir, const char *name);

static void retire_list(const char *root, const struct strvec *gone)
{
	char *scandir = paths_services_dir(root);
	for (size_t i = 0; i < gone->n; i++) {
		char *dir = xasprintf("%s/%s", scandir, gone->v[i]);
		const char *down[] = { "s6-svc", "-d", dir, NULL };
		int status;
		supervisor_s6(down, &status, NULL);
		move_aside(scandir, gone->v[i]);
		free(dir);
	}
	if (gone->n) {
		const char *prune[] = { "s6-svscanctl", "-an", scandir, NULL };
		int status;
		supervisor_s6(prune, &status, NULL);
	}
	sweep_gone(scandir);
	free(scandir);
}

/* The app's service names now, except what is kept; into out. */
static void list_services(const char *scandir, const char *app, struct strvec *out)
{
	DIR *d = opendir(scandir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (is_service_of(e->d_name, app))
			strvec_push(out, e->d_name);
	if (d)
		closedir(d);
}

/* Moves a service directory aside (svscan ignores dot-names); no s6 call. */
static void move_aside(const char *scandir, const char *name)
{
	char *dir = xasprintf("%s/%s", scandir, name), *tmp = NULL;
	if (fs_mkdtemp(scandir, ".gone-", &tmp) == 0) {
		char *to = xasprintf("%s/svc", tmp);
		if (rename(dir, to) < 0)
			rmdir(tmp);
		free(to);
	}
	free(tmp);
	free(dir);
}

int services_ensure(const char *root, const char *app, const struct release *r, int *added)
{
	char *scandir = paths_services_dir(root);
	struct strvec want = STRVEC_INIT, have = STRVEC_INIT, names = STRVEC_INIT;
	int err;

	*added = 0;
	if ((err = services_wanted(root, app, r, &want)))
		goto done;
	for (size_t i = 0; i < want.n; i++)
		strvec_pushf(&names, "%s.v%d.%s", app, r->version, want.v[i]);
	list_services(scandir, app, &have);
	strvec_sort(&names);
	for (size_t i = 0; i < have.n; i++)
		if (!strvec_has_sorted(&names, have.v[i]))
			move_aside(scandir, have.v[i]);
	strvec_sort(&have);
	for (size_t i = 0; i < want.n && !err; i++) {
		char *name = xasprintf("%s.v%d.%s", app, r->version, want.v[i]);
		int port = 0;
		if (!strvec_has_sorted(&have, name) && !(err = pick_port(&port)) &&
		    !(err = write_service(root, app, r, want.v[i], port, name)))
			(*added)++;
		free(name);
	}
done:
	strvec_clear(&want);
	strvec_clear(&have);
	strvec_clear(&names);
	free(scandir);
	return err;
}

int services_forget(const char *root, const char *app)
{
	char *scandir = paths_services_dir(root);
	struct strvec have = STRVEC_INIT;
	if (fs_is_dir(scandir)) {
		list_services(scandir, app, &have);
		for (size_t i = 0; i < have.n; i++)
			move_aside(scandir, have.v[i]);
	}
	strvec_clear(&have);
	free(scandir);
	return 0;
}

int services_restore_all(const char *root, int rescan, int *added)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);

	*added = 0;
	for (size_t i = 0; !err && i < apps.n; i++) {
		struct ledger *l = NULL;
		struct release r = RELEASE_INIT;
		char *repo = app_repo_path(root, apps.v[i]);
		int v = 0, n = 0;
		if (!(err = ledger_open(&l, repo)) && !(err = ledger_current(l, &v)) && v &&
		    !(err = ledger_read(l, v, LEDGER_READ_PROCS, &r)) && r.slug[0] &&
		    !(err = services_ensure(root, apps.v[i], &r, &n)))
			*added += n;
		release_release(&r);
		ledger_free(l);
		free(repo);
	}
	strvec_clear(&apps);
	if (!err && rescan)
		err = supervisor_rescan(root);
	return err;
}

static int info_cmp(const void *a, const void *b)
{
	const struct service_info *x = a, *y = b;
	int c = strcmp(x->type, y->type);
	return c ? c : x->index - y->index;
}

/* s6-svstat -o up,pid,updownfor: "true 1234 37". */
static void read_state(const char *dir, struct service_info *s)
{
	struct buf out = BUF_INIT;
	if (svstat(dir, "up,pid,updownfor", &out) == 0) {
		char up[8] = "";
		long pid = 0;
		long long for_s = 0;
		if (sscanf(out.data, "%7s %ld %lld", up, &pid, &for_s) >= 1) {
			s->up = !strcmp(up, "true");
			s->pid = pid > 0 ? pid : 0;
			s->since = (long long)time(NULL) - for_s;
		}
	}
	buf_release(&out);
}

int services_list(const char *root, const char *app, struct service_info **out, size_t *n)
{
	char *scandir = paths_services_dir(root);
	struct strvec names = STRVEC_INIT;
	*out = NULL;
	*n = 0;
	if (services_runtime_up(root))
		list_services(scandir, app, &names);
	*out = xcalloc(names.n ? names.n : 1, sizeof(**out));
	size_t a = strlen(app);
	for (size_t i = 0; i < names.n; i++) {
		struct service_info *s = &(*out)[*n];
		const char *rest = names.v[i] + a + 2; /* past "APP.v" */
		char *dot = NULL;
		s->version = (int)strtol(rest, &dot, 10);
		const char *inst = dot && *dot == '.' ? dot + 1 : "";
		const char *last = strrchr(inst, '.');
		if (!last || (size_t)(last - inst) >= sizeof(s->type))
			continue;
		snprintf(s->name, sizeof(s->name), "%s", names.v[i]);
		memcpy(s->type, inst, (size_t)(last - inst));
		s->type[last - inst] = '\0';
		s->index = atoi(last + 1);
		char *dir = xasprintf("%s/%s", scandir, names.v[i]), *pf = xasprintf("%s/port", dir);
		char *text = NULL;
		if (fs_read_file(pf, 32, &text, NULL) == 0)
			s->port = atoi(text);
		free(text);
		read_state(dir, s);
		free(pf);
		free(dir);
		(*n)++;
	}
	qsort(*out, *n, sizeof(**out), info_cmp);
	strvec_clear(&names);
	free(scandir);
	return 0;
}

static int apply_change(const struct release *r, int *counts, const char *change)
{
	size_t tl = strcspn(change, "=+-");
	const char *op = change + tl;
	char *end = NULL;
	long v = *op ? strtol(op + 1, &end, 10) : -1;
	if (!tl || !*op || !op[1] || *end || v < 0 || v > 1000)
		return sw_error_set(SW_EINVALID, "invalid change '%s': use TYPE=N, TYPE+N or TYPE-N, "
				    "for example web=2", change);
	for (size_t i = 0; i < r->procs.n; i++) {
		if (strlen(r->procs.items[i].name) != tl ||
		    strncmp(r->procs.items[i].name, change, tl) ||
		    !strcmp(r->procs.items[i].name, "release")) /* it runs once per release */
			continue;
		long n = *op == '=' ? v : *op == '+' ? counts[i] + v : counts[i] - v;
		if (n < 0 || n > SERVICES_MAX_PER_TYPE)
			return sw_error_set(SW_EINVALID, "cannot run %ld %.*s processes: use 0 to %d",
					    n, (int)tl, change, SERVICES_MAX_PER_TYPE);
		counts[i] = (int)n;
		return 0;
	}
	struct buf types = BUF_INIT;
	for (size_t i = 0; i < r->procs.n; i++)
		if (strcmp(r->procs.items[i].name, "release"))
			buf_addf(&types, "%s%s", types.len ? ", " : "", r->procs.items[i].name);
	int err = sw_error_set(SW_EINVALID, "no such process type '%.*s' in release v%d (types: %s)",
			       (int)tl, change, r->version, types.len ? types.data : "none");
	buf_release(&types);
	return err;
}

int services_scale(const char *root, const char *app, const struct release *r,
		   char *const *changes, size_t n, char **summary)
{
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(*counts));
	struct buf file = BUF_INIT, sum = BUF_INIT;
	int err = formation_counts(root, app, r, counts);

	*summary = NULL;
	for (size_t i = 0; !err && i < n; i++)
		err = apply_change(r, counts, changes[i]);
	if (err)
		goto done;
	for (size_t i = 0; i < r->procs.n; i++) {
		if (!strcmp(r->procs.items[i].name, "release"))
			continue;
		buf_addf(&file, "%s=%d\n", r->procs.items[i].name, counts[i]);
		if (counts[i])
			buf_addf(&sum, "%s%s at %d", sum.len ? ", " : "", r->procs.items[i].name,
				 counts[i]);
	}
	char *path = paths_repo_file(root, app, FORMATION_FILE);
	err = fs_write_atomic(path, file.data, file.len, 0644);
	free(path);
	if (!err && services_runtime_up(root)) {
		int added = 0;
		if (!(err = services_ensure(root, app, r, &added)))
			err = supervisor_rescan(root);
	}
	if (!err)
		*summary = xstrdup(sum.len ? sum.data : "no processes");
done:
	buf_release(&file);
	buf_release(&sum);
	free(counts);
	return err;
}
