#define _GNU_SOURCE
#include "runtime/services.h"

#include "runtime/healthcheck.h"
#include "runtime/logs.h"
#include "runtime/supervisor.h"
#include "runtime/warm.h"
#include "store/app.h"
#include "store/apphosts.h"
#include "store/hosts.h"
#include "store/formation.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/net.h"
#include "util/proc.h"
#include "util/run.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PORT_FIRST 20000
#define PORT_LAST 29999

int services_runtime_up(const char *root)
{
	return supervisor_running(root);
}

/* The instances of r the formation asks of this host (here) or of every host, as names. */
static int wanted(const char *root, const char *app, const struct release *r, int here,
		  struct strvec *instances)
{
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(*counts));
	size_t i = 0, n = 1;
	int err = formation_counts(root, app, r, counts);
	if (!err && here)
		err = apphosts_share_of(root, app, HOST_LOCAL, &i, &n);
	for (size_t t = 0; !err && t < r->procs.n; t++) {
		int count = here ? formation_share(counts[t], i, n) : counts[t];
		for (int k = 1; k <= count; k++)
			strvec_pushf(instances, "%s.%d", r->procs.items[t].name, k);
	}
	free(counts);
	return err;
}

int services_wanted(const char *root, const char *app, const struct release *r,
		    struct strvec *instances)
{
	return wanted(root, app, r, 1, instances);
}

int services_wanted_all(const char *root, const char *app, const struct release *r,
			struct strvec *instances)
{
	return wanted(root, app, r, 0, instances);
}

int services_formation_missing(const char *root, const char *app, const struct release *cur,
			       const struct release *next, const char **type, int *count)
{
	int *counts = xcalloc(cur->procs.n ? cur->procs.n : 1, sizeof(*counts));
	int err = formation_counts(root, app, cur, counts), found = 0;
	for (size_t i = 0; !err && !found && i < cur->procs.n; i++)
		if (counts[i] && !proc_list_get(&next->procs, cur->procs.items[i].name)) {
			*type = cur->procs.items[i].name;
			*count = counts[i];
			found = 1;
		}
	free(counts);
	return err ? err : found;
}

/* A service name "APP.vN-G.TYPE.I", parsed. */
struct svc_name {
	int version, gen, index;
	char type[64];
	const char *logdir;  /* "vN-G.TYPE.I": the name without "APP." (points into the name) */
};

static int parse_service(const char *name, const char *app, struct svc_name *s)
{
	size_t a = strlen(app);
	if (strncmp(name, app, a) || name[a] != '.' || name[a + 1] != 'v' ||
	    name[a + 2] < '0' || name[a + 2] > '9')
		return -1;
	char *end = NULL;
	long v = strtol(name + a + 2, &end, 10);
	if (*end != '-')
		return -1;
	long g = strtol(end + 1, &end, 10);
	if (*end != '.' || v < 1 || g < 1)
		return -1;
	const char *inst = end + 1, *dot = strrchr(inst, '.');
	if (!dot || dot == inst || (size_t)(dot - inst) >= sizeof(s->type))
		return -1;
	long i = strtol(dot + 1, &end, 10);
	if (*end || i < 1)
		return -1;
	memcpy(s->type, inst, (size_t)(dot - inst));
	s->type[dot - inst] = '\0';
	s->version = (int)v;
	s->gen = (int)g;
	s->index = (int)i;
	s->logdir = name + a + 1;
	return 0;
}

/* "APP.vN-G.TYPE.I" of an instance ("TYPE.I") */
static char *service_name(const char *app, int version, int gen, const char *instance)
{
	return xasprintf("%s.v%d-%d.%s", app, version, gen, instance);
}

/* What starting instances reads of the settings, once per batch. */
struct start_settings {
	char host[320];       /* APP.slipway.domain: the Host of health checks */
	int boot;             /* slipway.bootTimeout */
	int stop;             /* slipway.stopTimeout */
	int first, last;      /* slipway.portRange */
};

static int read_start_settings(const char *root, const char *app, struct start_settings *ss)
{
	struct settings *s = NULL;
	int err = settings_open(&s, root, app);
	if (!err)
		err = settings_seconds(s, &SETTING_BOOT_TIMEOUT, &ss->boot);
	if (!err)
		err = settings_seconds(s, &SETTING_STOP_TIMEOUT, &ss->stop);
	if (!err)
		err = settings_port_range(s, &SETTING_PORT_RANGE, &ss->first, &ss->last);
	char *domain = NULL;
	if (!err && !(err = settings_string(s, &SETTING_DOMAIN, &domain)))
		snprintf(ss->host, sizeof(ss->host), "%s.%s", app, domain);
	free(domain);
	settings_free(s);
	return err;
}

/*
 * Hands out the ports of one batch of new instances: each port at most
 * once, none that something listens on now, none that a service of the
 * root holds (its file "port": it may not listen yet, or be between two
 * runs).
 */
struct port_picker {
	int first, last;
	int *taken;
	size_t n, alloc;
};

static void picker_take(struct port_picker *pp, int port)
{
	if (pp->n == pp->alloc) {
		pp->alloc = pp->alloc ? 2 * pp->alloc : 16;
		pp->taken = xrealloc(pp->taken, pp->alloc * sizeof(*pp->taken));
	}
	pp->taken[pp->n++] = port;
}

/* The port a service holds (its file "port"), 0 when none. */
static int port_of(const char *root, const char *name)
{
	char *text = NULL;
	int port = supervisor_service_read(root, name, "port", 32, &text) == 0 ? atoi(text) : 0;
	free(text);
	return port > 0 ? port : 0;
}

static void picker_init(struct port_picker *pp, const char *root, int first, int last)
{
	struct strvec names = STRVEC_INIT;
	*pp = (struct port_picker){ .first = first, .last = last };
	supervisor_service_names(root, &names);
	for (size_t i = 0; i < names.n; i++) {
		int port = port_of(root, names.v[i]);
		if (port)
			picker_take(pp, port);
	}
	strvec_clear(&names);
}

static void picker_release(struct port_picker *pp)
{
	free(pp->taken);
	pp->taken = NULL;
	pp->n = pp->alloc = 0;
}

static int picker_has(const struct port_picker *pp, int port)
{
	for (size_t i = 0; i < pp->n; i++)
		if (pp->taken[i] == port)
			return 1;
	return 0;
}

static int picker_next(struct port_picker *pp, int *port)
{
	static unsigned seed;
	if (!seed)
		seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int span = pp->last - pp->first + 1;
	for (int tries = 0; tries < 200 + span; tries++) {
		/* random first, so two switches rarely race for one port; then every port in turn */
		int p = tries < 200 ? pp->first + (int)(rand_r(&seed) % (unsigned)span)
				    : pp->first + (tries - 200);
		if (!picker_has(pp, p) && net_port_free(p)) {
			picker_take(pp, p);
			*port = p;
			return 0;
		}
	}
	return sw_error_set(SW_ERROR, "no free port in slipway.portRange %d-%d", pp->first,
			    pp->last);
}

int services_pick_ports(const char *root, int first, int last, size_t n, int *ports)
{
	struct port_picker pp;
	int err = 0;
	picker_init(&pp, root, first, last);
	for (size_t i = 0; i < n && !err; i++)
		err = picker_next(&pp, &ports[i]);
	picker_release(&pp);
	return err;
}

void services_address_of(int port, char out[SERVICES_ADDRESS_MAX])
{
	snprintf(out, SERVICES_ADDRESS_MAX, "%s:%d", SERVICES_HOST, port);
}

int services_address(const char *root, const char *app, const char *name,
		     char out[SERVICES_ADDRESS_MAX])
{
	struct svc_name sn;
	int port = parse_service(name, app, &sn) == 0 ? port_of(root, name) : 0;
	if (!port)
		return sw_error_set(SW_ENOTFOUND, "no instance '%s' of %s", name, app);
	services_address_of(port, out);
	return 0;
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
 * Writes the service of one instance (runtime/supervisor.h): its run
 * program, its port, and its logger (log/run: an s6-log writing
 * <root>/logs/APP/vN-G.TYPE.I, rotated by size).
 */
static int write_service(const char *root, const char *app, const struct release *r,
			 const char *instance, int port, int stop_sec, const char *name)
{
	char *self = self_exe(), *logs = logs_app_dir(root, app);
	char *logdir = xasprintf("%s/%s", logs, name + strlen(app) + 1);
	struct buf run = BUF_INIT, log = BUF_INIT;
	int err;

	if (!self) {
		err = sw_error_errno(SW_ERROR, "cannot find the slipway executable");
		goto done;
	}
	buf_adds(&run, "exec ");
	buf_add_shell_quoted(&run, self);
	buf_adds(&run, " --root ");
	buf_add_shell_quoted(&run, root);
	buf_addf(&run, " instance:run %s --port %d --release v%d --supervised -a %s 2>&1\n",
		 instance, port, r->version, app);
	/*
	 * s6-log ends with its supervisor (setpriv, util-linux; on SIGTERM it
	 * writes the line it has and exits): a supervisor killed must not leave
	 * a logger nobody supervises, holding the logdir's lock so the new
	 * supervisor's s6-log cannot start.  What the instance writes meanwhile
	 * waits in the pipe, which s6-svscan keeps, for the new one.
	 */
	buf_addf(&log, "#!/bin/sh\n# written by slipway: the instance's log\n"
		       "PATH=/usr/local/bin:/usr/bin:/bin\nexport PATH\n"
		       "exec /usr/bin/setpriv --pdeathsig TERM s6-log -- n%d s%d ",
		 LOGS_FILES_KEPT, LOGS_FILE_SIZE);
	buf_add_shell_quoted(&log, logdir);
	buf_adds(&log, "\n");
	char ptext[16], ktext[32];
	int pn = snprintf(ptext, sizeof(ptext), "%d\n", port);
	/* s6's own last resort: should the instance not end after its SIGKILL, s6 kills it */
	int kn = snprintf(ktext, sizeof(ktext), "%lld\n", (stop_sec + 5) * 1000LL);
	const struct service_file files[] = {
		{ "port", ptext, (size_t)pn, 0644 },
		{ "timeout-kill", ktext, (size_t)kn, 0644 },
	};
	struct service_desc d = { .name = name, .about = "one process instance", .run = run.data,
				  .log_run = log.data, .files = files, .nfiles = 2, .replace = 1 };
	err = supervisor_service_write(root, &d);
done:
	buf_release(&run);
	buf_release(&log);
	free(logdir);
	free(logs);
	free(self);
	return err;
}

/* The pid the instance wrote in its file "state" (runtime/instance.h), if it still runs, else 0. */
static long stated_pid(const char *root, const char *name)
{
	char *text = NULL, word[16];
	long long since;
	long pid = 0;
	if (supervisor_service_read(root, name, "state", 64, &text) < 0 ||
	    sscanf(text, "%15s %lld %ld", word, &since, &pid) != 3)
		pid = 0;
	free(text);
	return supervisor_service_own_pid(root, name, pid);
}

/* The pid s6 runs for the service, 0 when it is down. */
static long service_pid(const char *root, const char *name)
{
	struct service_state st;
	long pid = stated_pid(root, name);
	if (pid)
		return pid;
	return supervisor_service_state(root, name, &st) == 0 ? st.pid : 0;
}

static void pause_ms(int ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
}

/*
 * Whether the instance said it is up (its file "state"): it alone tells its
 * app's listener from its network's forwarder, which also listens on the
 * port, in the host's namespace (exec/appnet.h).
 */
static int said_up(const char *root, const char *name)
{
	char *text = NULL;
	int up = supervisor_service_read(root, name, "state", 64, &text) == 0 &&
		 !strncmp(text, "up ", 3);
	free(text);
	return up;
}

/*
 * The process the instance's sandbox started, as its file "state" says
 * once up (runtime/instance.h): a child of the instance's own process,
 * still running; else 0.
 */
static pid_t app_pid(const char *root, const char *name)
{
	char *text = NULL, word[16];
	long long since;
	long pid = 0, app = 0;
	pid_t children[64];
	int n = supervisor_service_read(root, name, "state", 64, &text) == 0
		? sscanf(text, "%15s %lld %ld %ld", word, &since, &pid, &app) : 0;
	free(text);
	if (n != 4 || strcmp(word, "up") || !supervisor_service_own_pid(root, name, pid))
		return 0;
	/* a pid the kernel gave another process since is no child of the instance's */
	size_t k = proc_children((pid_t)pid, children, 64);
	for (size_t i = 0; i < k && i < 64; i++)
		if (children[i] == (pid_t)app)
			return (pid_t)app;
	return 0;
}

int services_serves(const char *root, const char *app, const char *name)
{
	struct svc_name sn;
	int port = parse_service(name, app, &sn) == 0 ? port_of(root, name) : 0;
	pid_t pid = port ? app_pid(root, name) : 0;
	return pid > 0 && net_tree_serves(pid, port);
}

/*
 * Waits until the instance passes the gate - a web one accepts on its port,
 * then answers the app's health checks; any other stays up 3 s - 0, or
 * SW_ETIMEOUT with *why.
 */
static int gate(const char *root, const char *name, const char *instance, int port,
		const struct start_settings *ss, const struct healthchecks *hc, char **why)
{
	int web = !strncmp(instance, "web.", 4), boot_sec = ss->boot;
	long long end = run_now_ms() + (web ? boot_sec * 1000LL : 3000);
	long first = 0;
	while (run_now_ms() < end) {
		if (web) {
			/* the new process listens on the port it was given (not another one) */
			if (said_up(root, name) &&
			    net_tree_serves((pid_t)service_pid(root, name), port)) {
				char address[SERVICES_ADDRESS_MAX];
				services_address_of(port, address);
				return healthchecks_run(hc, instance, address, ss->host, why);
			}
			pause_ms(10);
			continue;
		}
		long pid = service_pid(root, name);
		if (!first)
			first = pid;
		if (first && pid && pid != first)
			break; /* it exited and s6 started it again */
		pause_ms(50);
	}
	if (!web && first && service_pid(root, name) == first)
		return 0;
	*why = web ? xasprintf("%s did not bind to $PORT within %d s", instance, boot_sec)
		   : xasprintf("%s did not stay up for 3 s", instance);
	return SW_ETIMEOUT;
}

static void retire_list(const char *root, const struct strvec *gone);

static void prune_logs(const char *root, const char *app);

/* why, and the last lines the instance logged (it may still be writing them). */
static void add_last_lines(const char *root, const char *app, const char *name, char **why)
{
	struct buf lines = BUF_INIT;
	pause_ms(200);
	logs_instance_tail(root, app, name + strlen(app) + 1, 10, &lines);
	if (lines.len) {
		char *with = xasprintf("%s\n%s", *why, lines.data);
		free(*why);
		*why = with;
		size_t n = strlen(with);
		if (n && with[n - 1] == '\n')
			with[n - 1] = '\0';
	}
	buf_release(&lines);
}

int services_start(const char *root, const char *app, const struct release *r,
		   const struct strvec *instances, struct strvec *started, char **why)
{
	struct start_settings ss;
	struct healthchecks hc;
	int gen = 0, err;
	int *ports = xcalloc(instances->n ? instances->n : 1, sizeof(*ports));

	*why = NULL;
	/* a release whose app.json is wrong starts nothing */
	if ((err = read_start_settings(root, app, &ss)) ||
	    (err = healthchecks_load(root, r->slug, &hc)) ||
	    (err = logs_next_generation(root, app, &gen))) {
		if (err == SW_EINVALID)
			*why = xstrdup(sw_error_last());
		goto done;
	}
	if ((err = services_pick_ports(root, ss.first, ss.last, instances->n, ports)))
		goto done;
	for (size_t i = 0; i < instances->n && !err; i++) {
		char *name = service_name(app, r->version, gen, instances->v[i]);
		if (!(err = write_service(root, app, r, instances->v[i], ports[i], ss.stop, name)))
			strvec_push(started, name);
		free(name);
	}
	if (!err)
		err = supervisor_rescan(root);
	size_t failed = 0;
	for (size_t i = 0; i < started->n && !err; i++) {
		err = gate(root, started->v[i], instances->v[i], ports[i], &ss, &hc, why);
		failed = i;
	}
	if (err) {
		if (!*why)
			*why = xstrdup(sw_error_last());
		else if (failed < started->n)
			add_last_lines(root, app, started->v[failed], why);
		retire_list(root, started); /* the new ones go; the old ones never noticed */
		strvec_clear(started);
	}
	prune_logs(root, app);
done:
	free(ports);
	return err;
}

/* "APP.vN-G.TYPE.I": a service of app. */
static int is_service_of(const char *name, const char *app)
{
	struct svc_name sn;
	return parse_service(name, app, &sn) == 0;
}

/* The app's service names now; into out. */
static void list_services(const char *root, const char *app, struct strvec *out)
{
	struct strvec all = STRVEC_INIT;
	supervisor_service_names(root, &all);
	for (size_t i = 0; i < all.n; i++)
		if (is_service_of(all.v[i], app))
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
}

/*
 * Retires the named services without waiting for them: each gets SIGTERM
 * now (its instance passes it on and sends SIGKILL after the stop timeout,
 * runtime/instance.h), its directory is moved aside at once so it is no
 * service of the app any more, and s6-svscan lets its supervisor go once
 * the process is down (supervisor_service_remove).
 */
static void retire_list(const char *root, const struct strvec *gone)
{
	supervisor_service_remove(root, gone);
}

void services_of_app_but(const char *root, const char *app, const struct strvec *keep,
			 struct strvec *out)
{
	struct strvec have = STRVEC_INIT;
	list_services(root, app, &have);
	for (size_t i = 0; i < have.n; i++) {
		int kept = 0;
		for (size_t k = 0; keep && k < keep->n; k++)
			kept |= !strcmp(keep->v[k], have.v[i]);
		if (!kept)
			strvec_push(out, have.v[i]);
	}
	strvec_clear(&have);
}

int services_any_web(const char *app, const struct strvec *names)
{
	for (size_t i = 0; i < names->n; i++) {
		struct svc_name sn;
		if (parse_service(names->v[i], app, &sn) == 0 && !strcmp(sn.type, "web"))
			return 1;
	}
	return 0;
}

int services_ensure(const char *root, const char *app, const struct release *r, int *added)
{
	struct strvec want = STRVEC_INIT, have = STRVEC_INIT, kept = STRVEC_INIT;
	struct start_settings ss;
	struct port_picker pp = { 0 };
	int err, gen = 0;

	*added = 0;
	if ((err = services_wanted(root, app, r, &want)))
		goto done;
	strvec_sort(&want);
	list_services(root, app, &have);
	/* a service is kept when it runs a wanted instance of r, the first of each */
	for (size_t i = 0; i < have.n; i++) {
		struct svc_name sn;
		char *inst = NULL;
		if (parse_service(have.v[i], app, &sn) == 0)
			inst = xasprintf("%s.%d", sn.type, sn.index);
		if (inst && warm_release_of(root, have.v[i], sn.version) == r->version &&
		    strvec_has_sorted(&want, inst)) {
			strvec_sort(&kept);
			if (!strvec_has_sorted(&kept, inst)) {
				strvec_push(&kept, inst);
				free(inst);
				continue;
			}
		}
		free(inst);
		supervisor_service_move_aside(root, have.v[i]);
	}
	strvec_sort(&kept);
	for (size_t i = 0; i < want.n && !err; i++) {
		if (strvec_has_sorted(&kept, want.v[i]))
			continue;
		if (!gen && ((err = read_start_settings(root, app, &ss)) ||
			     (err = logs_next_generation(root, app, &gen))))
			break;
		if (!pp.last) /* once: the ports of the services written so far are in it */
			picker_init(&pp, root, ss.first, ss.last);
		char *name = service_name(app, r->version, gen, want.v[i]);
		int port = 0;
		if (!(err = picker_next(&pp, &port)) &&
		    !(err = write_service(root, app, r, want.v[i], port, ss.stop, name)))
			(*added)++;
		free(name);
	}
done:
	picker_release(&pp);
	strvec_clear(&want);
	strvec_clear(&have);
	strvec_clear(&kept);
	return err;
}

/* "web" matches web.N, "web.1" itself, NULL everything. */
static int instance_matches(const struct svc_name *sn, const char *which)
{
	if (!which)
		return 1;
	char inst[96];
	snprintf(inst, sizeof(inst), "%s.%d", sn->type, sn->index);
	return !strcmp(which, sn->type) || !strcmp(which, inst);
}

void services_retire_names(const char *root, const struct strvec *names)
{
	retire_list(root, names);
}

int services_restart(const char *root, const char *app, const struct release *r,
		     const char *which, struct strvec *started, struct strvec *old, char **why)
{
	struct strvec have = STRVEC_INIT, instances = STRVEC_INIT;
	int err = 0;

	*why = NULL;
	if (!services_runtime_up(root)) {
		err = sw_error_set(SW_ERROR, "the runtime is not running: start it with "
				   "'slipway server:start'");
		goto done;
	}
	list_services(root, app, &have);
	strvec_sort(&have);
	for (size_t i = 0; i < have.n; i++) {
		struct svc_name sn;
		/* warm instances are the previous release's: not restarted as the current's */
		if (parse_service(have.v[i], app, &sn) == 0 && instance_matches(&sn, which) &&
		    !warm_is(root, have.v[i], NULL, NULL)) {
			strvec_push(old, have.v[i]);
			strvec_pushf(&instances, "%s.%d", sn.type, sn.index);
		}
	}
	if (!old->n) {
		err = which ? sw_error_set(SW_ENOTFOUND, "no process %s of %s is running", which, app)
			    : sw_error_set(SW_ENOTFOUND, "no processes of %s are running", app);
		goto done;
	}
	/* the same switch as a release's: new ones up and through the gate, then the old ones go */
	if ((err = services_start(root, app, r, &instances, started, why)))
		strvec_clear(old);
done:
	strvec_clear(&have);
	strvec_clear(&instances);
	return err;
}

/* The log directory names ("vN-G.TYPE.I") of the app's services now, sorted. */
static void live_logdirs(const char *root, const char *app, struct strvec *out)
{
	struct strvec names = STRVEC_INIT;
	list_services(root, app, &names);
	for (size_t i = 0; i < names.n; i++)
		strvec_push(out, names.v[i] + strlen(app) + 1);
	strvec_sort(out);
	strvec_clear(&names);
}

static void prune_logs(const char *root, const char *app)
{
	struct strvec live = STRVEC_INIT;
	live_logdirs(root, app, &live);
	logs_prune(root, app, &live, SERVICES_LOGS_KEPT);
	strvec_clear(&live);
}

int services_sweep(const char *root)
{
	struct strvec apps = STRVEC_INIT;
	int err = app_list(root, &apps);
	supervisor_sweep(root);
	for (size_t i = 0; !err && i < apps.n; i++)
		prune_logs(root, apps.v[i]);
	strvec_clear(&apps);
	return err;
}

int services_name_parse(const char *name, const char *app, int *version, char type[64],
			int *index)
{
	struct svc_name sn;
	if (parse_service(name, app, &sn) < 0)
		return -1;
	*version = sn.version;
	*index = sn.index;
	snprintf(type, 64, "%s", sn.type);
	return 0;
}

void services_names(const char *root, const char *app, struct strvec *out)
{
	list_services(root, app, out);
}

int services_web_ports(const char *root, const char *app, const struct strvec *names,
		       struct strvec *labels, int **ports)
{
	struct strvec have = STRVEC_INIT;
	if (!names) {
		list_services(root, app, &have);
		names = &have;
	}
	/* what the router gets never includes a warm instance unless named */
	int all = names == &have;
	struct { int index, port; } *v = xcalloc(names->n ? names->n : 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < names->n; i++) {
		struct svc_name sn;
		if (parse_service(names->v[i], app, &sn) < 0 || strcmp(sn.type, "web") ||
		    (all && warm_is(root, names->v[i], NULL, NULL)))
			continue;
		int port = port_of(root, names->v[i]);
		if (!port)
			continue;
		size_t k = n++;
		while (k > 0 && v[k - 1].index > sn.index) {
			v[k] = v[k - 1];
			k--;
		}
		v[k].index = sn.index;
		v[k].port = port;
	}
	*ports = xcalloc(n ? n : 1, sizeof(**ports));
	for (size_t i = 0; i < n; i++) {
		strvec_pushf(labels, "web.%d", v[i].index);
		(*ports)[i] = v[i].port;
	}
	free(v);
	strvec_clear(&have);
	return 0;
}

int services_forget(const char *root, const char *app)
{
	struct strvec have = STRVEC_INIT;
	list_services(root, app, &have);
	for (size_t i = 0; i < have.n; i++)
		supervisor_service_move_aside(root, have.v[i]);
	strvec_clear(&have);
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
	/* of a type, the warm instances come after those that serve */
	if (!c)
		c = (x->warm_until > 0) - (y->warm_until > 0);
	return c ? c : x->index - y->index;
}

/*
 * What s6 says (runtime/supervisor.h) and what the instance says of itself
 * (its file "state": "up 1764601234").
 */
static void read_state(const char *root, struct service_info *s)
{
	struct service_state st;
	char *text = NULL;
	s->port = port_of(root, s->name);
	snprintf(s->state, sizeof(s->state), "down");
	if (supervisor_service_state(root, s->name, &st) == 0) {
		s->up = st.up;
		s->pid = st.pid;
		s->since = (long long)time(NULL) - st.seconds;
	}
	char word[16];
	long long since = 0;
	/* while s6 runs it, the instance knows best: starting, up, or crashed (waiting) */
	if (s->up && supervisor_service_read(root, s->name, "state", 64, &text) == 0 &&
	    sscanf(text, "%15s %lld", word, &since) == 2 &&
	    (!strcmp(word, "starting") || !strcmp(word, "up") || !strcmp(word, "crashed"))) {
		snprintf(s->state, sizeof(s->state), "%s", word);
		s->since = since;
	} else if (s->up) {
		snprintf(s->state, sizeof(s->state), "starting");
	}
	free(text);
}

/* A warm instance that runs (runtime/warm.h): since it left the router. */
static void read_warm(const char *root, struct service_info *s)
{
	long long since;
	/* one that crashed or starts again says so: only one that is up is warm */
	if (!warm_is(root, s->name, &since, &s->warm_until) || !s->up || strcmp(s->state, "up"))
		return;
	snprintf(s->state, sizeof(s->state), "warm");
	s->since = since;
}

int services_list(const char *root, const char *app, struct service_info **out, size_t *n)
{
	struct strvec names = STRVEC_INIT;
	*out = NULL;
	*n = 0;
	if (services_runtime_up(root))
		list_services(root, app, &names);
	*out = xcalloc(names.n ? names.n : 1, sizeof(**out));
	for (size_t i = 0; i < names.n; i++) {
		struct service_info *s = &(*out)[*n];
		struct svc_name sn;
		if (parse_service(names.v[i], app, &sn) < 0)
			continue;
		snprintf(s->name, sizeof(s->name), "%s", names.v[i]);
		snprintf(s->type, sizeof(s->type), "%s", sn.type);
		s->version = warm_release_of(root, names.v[i], sn.version);
		s->index = sn.index;
		read_state(root, s);
		read_warm(root, s);
		(*n)++;
	}
	qsort(*out, *n, sizeof(**out), info_cmp);
	strvec_clear(&names);
	return 0;
}

int services_scale_counts(const char *root, const char *app, const struct release *r,
			  char *const *changes, size_t n, int *counts)
{
	struct settings *s = NULL;
	uint64_t max = 0;
	int err = formation_counts(root, app, r, counts);

	/* at most SERVICES_MAX: the row's bound (store/settings.c) */
	if (!err && !(err = settings_open(&s, root, app)))
		err = settings_count(s, &SETTING_MAX_INSTANCES, &max);
	for (size_t i = 0; !err && i < n; i++)
		err = formation_change(r, counts, changes[i], (int)max);
	long total = 0;
	for (size_t i = 0; !err && i < r->procs.n; i++)
		total += counts[i];
	if (!err && total > (long)max)
		err = sw_error_set(SW_EINVALID, "cannot run %ld processes of %s: at most %d "
				   "(slipway.maxInstances)", total, app, (int)max);
	settings_free(s);
	return err;
}

int services_scale(const char *root, const char *app, const struct release *r,
		   char *const *changes, size_t n, char **summary)
{
	int *counts = xcalloc(r->procs.n ? r->procs.n : 1, sizeof(*counts));
	struct buf sum = BUF_INIT;
	int err = services_scale_counts(root, app, r, changes, n, counts);

	*summary = NULL;
	if (err)
		goto done;
	for (size_t i = 0; i < r->procs.n; i++)
		if (counts[i])
			buf_addf(&sum, "%s%s at %d", sum.len ? ", " : "", r->procs.items[i].name,
				 counts[i]);
	err = formation_write(root, app, r, counts);
	if (!err && services_runtime_up(root)) {
		int added = 0;
		if (!(err = services_ensure(root, app, r, &added)))
			err = supervisor_rescan(root);
	}
	if (!err)
		*summary = xstrdup(sum.len ? sum.data : "no processes");
done:
	buf_release(&sum);
	free(counts);
	return err;
}

/* 1 when s6 runs the service's process (or is starting it again): it is wanted up. */
static int wanted_up(const char *root, const char *name)
{
	struct service_state st;
	return supervisor_service_state(root, name, &st) == 0 && st.wanted_up;
}

/* Whether a, of the same instance as b, is the one to keep: wanted up first, then older. */
static int keeps_over(const char *root, const char *a, const struct svc_name *sa,
		      const char *b, const struct svc_name *sb)
{
	int ua = wanted_up(root, a), ub = wanted_up(root, b);
	return ua != ub ? ua : sa->gen < sb->gen;
}

void services_strays(const char *root, const char *app, int current, struct strvec *strays)
{
	struct strvec have = STRVEC_INIT;
	list_services(root, app, &have);
	strvec_sort(&have);
	for (size_t i = 0; i < have.n; i++) {
		struct svc_name si, sj;
		long long until = 0;
		int parsed = parse_service(have.v[i], app, &si) == 0;
		int stray = !parsed || warm_release_of(root, have.v[i], si.version) != current;
		/* the previous release kept warm is no stray until its window ends */
		if (stray && parsed && warm_is(root, have.v[i], NULL, &until) &&
		    until > (long long)time(NULL))
			continue;
		/* two of one instance: one goes */
		for (size_t j = 0; j < have.n && !stray; j++)
			stray = j != i && parse_service(have.v[j], app, &sj) == 0 &&
				warm_release_of(root, have.v[j], sj.version) == current &&
				sj.index == si.index &&
				!strcmp(sj.type, si.type) &&
				keeps_over(root, have.v[j], &sj, have.v[i], &si);
		if (stray)
			strvec_push(strays, have.v[i]);
	}
	strvec_clear(&have);
}
