#define _GNU_SOURCE
#include "runtime/addon.h"

#include "runtime/addon_kind.h"
#include "runtime/addon_pg.h"
#include "runtime/addon_redis.h"
#include "runtime/logs.h"
#include "runtime/supervisor.h"
#include "store/addons.h"
#include "store/ledger.h"
#include "store/paths.h"
#include "store/settings.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "util/net.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every kind of add-on; a new kind is its file and one line here. */
static const struct addon_kind *const kinds[] = {
	&addon_kind_pg,
	&addon_kind_redis,
};

const struct addon_kind *addon_kind_find(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strcmp(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

/* 1 if the attachment at is what arg names: its alias, its var or its add-on. */
static int names(const struct attachment *at, const char *arg)
{
	size_t n = strlen(at->alias);
	return !strcmp(at->alias, arg) || !strcmp(at->addon, arg) ||
	       (!strncmp(arg, at->alias, n) && !strcmp(arg + n, "_URL"));
}

/* The attachment of r that arg (NULL: kind's one) means into *at; SW_* with the message. */
static int resolve_in(const char *root, const char *app, const struct release *r,
		      const char *kind, const char *arg, const struct attachment **at)
{
	const struct attachment *preferred = NULL;
	size_t found = 0;
	const struct addon_kind *k = addon_kind_find(kind);
	char *dflt = k ? addon_default_alias(k) : NULL;
	*at = NULL;
	for (size_t i = 0; i < r->addons.n; i++) {
		const struct attachment *it = &r->addons.v[i];
		struct addon a = ADDON_INIT;
		if (arg ? !names(it, arg)
			: addon_read(root, it->addon, &a) < 0 || (kind && strcmp(a.kind, kind)))
			continue;
		if (!found++)
			*at = it;
		if (dflt && !strcmp(it->alias, dflt))
			preferred = it;
	}
	free(dflt);
	if (found > 1 && !arg && !(*at = preferred))
		return sw_error_set(SW_EINVALID, "%s has several %s add-ons: name one (addons -a %s)",
				    app, kind ? kind : "", app);
	if (!*at && arg)
		return sw_error_set(SW_ENOTFOUND, "Couldn't find that add-on: %s is not attached to %s",
				    arg, app);
	if (!*at)
		return sw_error_set(SW_ENOTFOUND, "%s has no %s add-on (addons:create %s -a %s)", app,
				    kind ? kind : "", kind ? kind : "postgresql", app);
	return 0;
}

int addon_resolve(const char *root, const char *app, const char *kind, const char *arg,
		  struct addon *out, char **alias)
{
	struct release r = RELEASE_INIT;
	const struct attachment *at = NULL;
	int err = ledger_read_newest(root, app, LEDGER_READ_CONFIG, &r);
	if (!err)
		err = resolve_in(root, app, &r, kind, arg, &at);
	if (!err)
		err = addon_read(root, at->addon, out);
	if (!err && kind && strcmp(out->kind, kind))
		err = sw_error_set(SW_EINVALID, "%s is a %s add-on, not %s", arg, out->kind, kind);
	if (!err && alias)
		*alias = xstrdup(at->alias);
	release_release(&r);
	return err;
}

char *addon_service_name(const char *name)
{
	return xasprintf("addon.%s", name);
}

int addon_kind_get(const char *kind, const struct addon_kind **out)
{
	if ((*out = addon_kind_find(kind)))
		return 0;
	struct buf names = BUF_INIT;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		buf_addf(&names, "%s%s", i ? ", " : "", kinds[i]->kind);
	int err = sw_error_set(SW_EINVALID, "unknown add-on service '%s': use %s", kind ? kind : "",
			       names.data);
	buf_release(&names);
	return err;
}

char *addon_default_alias(const struct addon_kind *k)
{
	char *alias = xstrdup(k->alias ? k->alias : k->kind);
	for (char *p = alias; *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return alias;
}

int addon_url(const char *root, const struct addon *a, const char *alias, char **out)
{
	const struct addon_kind *k = NULL;
	struct addon_credentials c;
	int err = addon_kind_get(a->kind, &k);
	*out = NULL;
	if (!err && !k->url)
		err = sw_error_set(SW_EINVALID, "add-ons of kind '%s' have no URL", a->kind);
	if (!err && !(err = addon_credentials_read(root, a->name, &c)))
		*out = k->url(a, &c, alias);
	memset(&c, 0, sizeof(c)); /* its file is the only copy kept */
	return err;
}

/* s6's finish: the run program's refusal becomes 125, which s6 never restarts. */
static char *finish_program(void)
{
	return xasprintf("#!/bin/sh\n# written by slipway: a server that refuses its data stays down\n"
			 "[ \"$1\" = %d ] && exit 125\nexit 0\n", ADDON_EXIT_REFUSED);
}

/* log/run: an s6-log of <root>/logs/addon.NAME, as an instance's (runtime/services.c). */
static int log_program(const char *root, const struct addon *a, struct buf *log)
{
	char *dir = paths_addon_logs(root, a->name);
	int err = fs_mkdir_p(dir, 0755);
	buf_addf(log, "#!/bin/sh\n# written by slipway: the add-on's log\n"
		      "PATH=/usr/local/bin:/usr/bin:/bin\nexport PATH\n"
		      "exec /usr/bin/setpriv --pdeathsig TERM s6-log -- n%d s%d ",
		 LOGS_FILES_KEPT, LOGS_FILE_SIZE);
	buf_add_shell_quoted(log, dir);
	buf_adds(log, "\n");
	free(dir);
	return err;
}

int addon_service_write(const char *root, const struct addon *a)
{
	const struct addon_kind *k = NULL;
	struct buf run = BUF_INIT, check = BUF_INIT, log = BUF_INIT;
	char *name = addon_service_name(a->name), *finish = finish_program();
	char *signal = NULL;
	int err;

	if ((err = addon_kind_get(a->kind, &k)) || (err = log_program(root, a, &log)))
		goto done;
	k->service(root, a, &run, &check);
	signal = xasprintf("%s\n", k->down_signal);
	const struct service_file files[] = {
		{ "notification-fd", "3\n", 2, 0644 },  /* s6-notifyoncheck's default fd */
		{ "down-signal", signal, strlen(signal), 0644 },
	};
	static const char *const env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
	struct service_desc d = { .name = name, .about = "an add-on's server", .env = env,
				  .run = run.data, .finish = finish, .log_run = log.data,
				  .check = check.data, .files = files, .nfiles = 2, .replace = 1 };
	if (!(err = supervisor_service_write(root, &d)) && supervisor_running(root))
		err = supervisor_rescan(root);
done:
	buf_release(&run);
	buf_release(&check);
	buf_release(&log);
	free(signal);
	free(finish);
	free(name);
	return err;
}

int addon_check(const char *root, const struct addon *a)
{
	const struct addon_kind *k = NULL;
	int err = addon_kind_get(a->kind, &k);
	return err ? err : k->check(root, a);
}

int addon_wait_ready(const char *root, const struct addon *a, int wait_sec)
{
	char *name = addon_service_name(a->name);
	int err = supervisor_service_wait_ready(root, name, wait_sec);
	if (err && addon_check(root, a) == SW_EINVALID)
		err = SW_ERROR; /* its reason is the message */
	free(name);
	return err;
}

/* slipway.addonPortRange, refused when it overlaps slipway.portRange. */
static int port_range(const char *root, int *first, int *last)
{
	struct settings *s = NULL;
	int pfirst = 0, plast = 0;
	int err = settings_open(&s, root, NULL);
	if (!err && !(err = settings_port_range(s, &SETTING_ADDON_PORT_RANGE, first, last)) &&
	    !(err = settings_port_range(s, &SETTING_PORT_RANGE, &pfirst, &plast)) &&
	    *first <= plast && pfirst <= *last)
		err = sw_error_set(SW_EINVALID,
				   "slipway.addonPortRange %d-%d overlaps slipway.portRange %d-%d: "
				   "give add-ons ports of their own",
				   *first, *last, pfirst, plast);
	settings_free(s);
	return err;
}

/* The first port of the range that no add-on has and nothing listens on. */
static int free_port(const char *root, int first, int last, int *port)
{
	struct strvec names = STRVEC_INIT;
	int err = addons_list(root, &names);
	for (int p = first; !err && p <= last; p++) {
		int taken = !net_port_free(p);
		for (size_t i = 0; !taken && i < names.n; i++) {
			struct addon a;
			taken = addon_read(root, names.v[i], &a) == 0 && a.port == p;
		}
		if (!taken) {
			*port = p;
			strvec_clear(&names);
			return 0;
		}
	}
	strvec_clear(&names);
	return err ? err : sw_error_set(SW_ERROR, "no free port in slipway.addonPortRange %d-%d",
					first, last);
}

/* Names the add-on and makes its directory, which reserves the name. */
static int reserve(const char *root, const struct addon_create_opts *o, struct addon *a)
{
	char *top = paths_addons_dir(root), *dir = NULL;
	int err = fs_mkdir_p(top, 0755);
	if (!err && o->name) {
		if (!(err = addon_name_check(o->name)))
			snprintf(a->name, sizeof(a->name), "%s", o->name);
	} else if (!err) {
		err = addon_name_generate(root, a->kind, a->name, sizeof(a->name));
	}
	if (!err) {
		dir = paths_addon_dir(root, a->name);
		if (mkdir(dir, 0755) < 0)
			err = errno == EEXIST
			      ? sw_error_set(SW_EEXISTS, "the add-on name '%s' is already taken", a->name)
			      : sw_error_errno(SW_ERROR, "cannot create '%s'", dir);
	}
	free(dir);
	free(top);
	return err;
}

/* What a failed create made goes: its service, its log, its directory. */
static void undo(const char *root, const struct addon *a)
{
	char *service = addon_service_name(a->name), *logs = paths_addon_logs(root, a->name);
	char *dir = paths_addon_dir(root, a->name);
	if (supervisor_service_exists(root, service)) {
		if (supervisor_running(root))
			supervisor_service_down(root, service, 30);
		struct strvec names = STRVEC_INIT;
		strvec_push(&names, service);
		supervisor_service_remove(root, &names);
		strvec_clear(&names);
	}
	fs_rm_rf(dir);
	fs_rm_rf(logs);
	free(dir);
	free(logs);
	free(service);
}

/* The steps after the name and port are reserved: files, credentials, service, readiness, record. */
static int build(const char *root, const struct addon_kind *k, const struct addon_create_opts *o,
		 struct addon *a)
{
	struct addon_credentials c;
	int err;
	if (!(err = k->prepare(root, a, &c)) && !(err = addon_credentials_write(root, a->name, &c)))
		err = addon_service_write(root, a);
	memset(&c, 0, sizeof(c)); /* its file is the only copy kept */
	if (err)
		return err;
	if ((err = addon_wait_ready(root, a, o->wait_sec)))
		return sw_error_prefix(err, "the server of add-on '%s' did not come up: ", a->name);
	if ((err = addon_write(root, a)))
		return err;
	/* the record is durable with its directory's entry in <root>/addons */
	char *dir = paths_addon_dir(root, a->name);
	err = fs_fsync_parent(dir);
	free(dir);
	return err;
}

int addon_create(const char *root, const struct addon_create_opts *o, struct addon *out)
{
	const struct addon_kind *k = NULL;
	struct lock lk = LOCK_INIT;
	struct addon a = ADDON_INIT;
	char *lockpath = NULL;
	int err, reserved = 0, first = 0, last = 0;

	if ((err = addon_kind_get(o->kind, &k)))
		return err;
	if (geteuid() == 0)
		return sw_error_set(SW_EDENIED, "add-ons need slipway to run as an unprivileged user");
	if (!supervisor_running(root))
		return sw_error_set(SW_ERROR,
				    "the runtime is not running (start it with: slipway server:start)");
	snprintf(a.kind, sizeof(a.kind), "%s", k->kind);
	if (o->app)
		snprintf(a.app, sizeof(a.app), "%s", o->app);
	a.created = (int64_t)time(NULL);
	if ((err = k->installed(&a.major)) || (err = port_range(root, &first, &last)))
		return err;
	lockpath = paths_addons_lock(root);
	if ((err = lock_acquire(&lk, lockpath, 600, NULL, NULL)) ||
	    (err = free_port(root, first, last, &a.port)) || (err = reserve(root, o, &a)))
		goto done;
	reserved = 1;
	err = build(root, k, o, &a);
done:
	if (err && reserved) {
		struct sw_error_state first;
		sw_error_save(&first, err);
		undo(root, &a);
		err = sw_error_restore(&first);
	}
	lock_release(&lk);
	free(lockpath);
	if (!err && out)
		*out = a;
	return err;
}

/*
 * What killed creates left - services and directories of add-ons without
 * a record - goes, under the add-ons' lock so that a create in progress
 * keeps its own (when one runs, the sweep waits for a next time).
 */
static void sweep_unfinished(const char *root, const struct strvec *names)
{
	struct lock lk = LOCK_INIT;
	char *lockpath = paths_addons_lock(root);
	struct strvec services = STRVEC_INIT, gone = STRVEC_INIT;
	if (lock_acquire(&lk, lockpath, 0, NULL, NULL) < 0)
		goto done;
	addons_list_unfinished(root, &gone);
	supervisor_service_names(root, &services);
	for (size_t i = 0; i < services.n; i++)
		if (!strncmp(services.v[i], "addon.", 6) && addon_name_valid(services.v[i] + 6) &&
		    !strvec_has_sorted(names, services.v[i] + 6))
			strvec_push(&gone, services.v[i] + 6);
	for (size_t i = 0; i < gone.n; i++) {
		struct addon a = ADDON_INIT;
		snprintf(a.name, sizeof(a.name), "%s", gone.v[i]);
		undo(root, &a);
	}
	lock_release(&lk);
done:
	strvec_clear(&gone);
	strvec_clear(&services);
	free(lockpath);
}

int addon_restore_all(const char *root, int *added)
{
	struct strvec names = STRVEC_INIT;
	int err = addons_list(root, &names);
	*added = 0;
	for (size_t i = 0; !err && i < names.n; i++) {
		struct addon a;
		char *service = addon_service_name(names.v[i]);
		if (!supervisor_service_exists(root, service) &&
		    !(err = addon_read(root, names.v[i], &a)) && !(err = addon_service_write(root, &a)))
			(*added)++;
		free(service);
	}
	if (!err)
		sweep_unfinished(root, &names);
	strvec_clear(&names);
	return err;
}

int addon_destroy(const char *root, const char *name)
{
	struct addon a;
	int err = addon_read(root, name, &a);
	if (err)
		return err;
	char *service = addon_service_name(name), *logs = paths_addon_logs(root, name);
	struct strvec names = STRVEC_INIT;
	/* stopped first: its files go only once no server uses them */
	if (supervisor_service_exists(root, service) && supervisor_running(root) &&
	    (err = supervisor_service_down(root, service, 60)) < 0)
		goto done;
	strvec_push(&names, service);
	supervisor_service_remove(root, &names);
	if (!(err = addon_remove(root, name)))
		err = fs_rm_rf(logs);
done:
	strvec_clear(&names);
	free(logs);
	free(service);
	return err;
}
