#define _GNU_SOURCE
#include "store/settings.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/gitutil.h"
#include "util/units.h"
#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define APP_ SETTING_SCOPE_APP
#define SERVER_ SETTING_SCOPE_SERVER

/*
 * Every setting, one row each (settings.h says what the fields mean).
 * Grouped as the reference shows them: builds, releases, instances, the
 * router, the server.
 */
const struct setting settings_table[SETTINGS_COUNT] = {
	[SETTING_ID_COMPILE_TIMEOUT] = {
		.key = "slipway.compileTimeout", .env = "SLIPWAY_COMPILE_TIMEOUT",
		.type = SETTING_TYPE_DURATION, .scope = APP_, .def = "15m",
		.help = "how long a build's buildpacks may run" },
	[SETTING_ID_MAX_SLUG_SIZE] = {
		.key = "slipway.maxSlugSize", .env = "SLIPWAY_MAX_SLUG_SIZE",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "500M",
		.help = "the largest compressed slug" },
	[SETTING_ID_MAX_SLUG_UNPACKED_SIZE] = {
		.key = "slipway.maxSlugUnpackedSize", .env = "SLIPWAY_MAX_SLUG_UNPACKED_SIZE",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "2G",
		.help = "the slug's files, uncompressed; also the largest file app code may write" },
	[SETTING_ID_MAX_SLUG_FILES] = {
		.key = "slipway.maxSlugFiles", .env = "SLIPWAY_MAX_SLUG_FILES",
		.type = SETTING_TYPE_COUNT, .scope = APP_, .def = "1000000",
		.help = "files and directories in a slug" },
	[SETTING_ID_MAX_BUILD_OUTPUT] = {
		.key = "slipway.maxBuildOutput", .env = "SLIPWAY_MAX_BUILD_OUTPUT",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "4M", .zero_off = 1,
		.help = "how much of a build's output is shown and kept: its first and last halves, "
			"with a line saying what was cut between; `0` keeps it all" },
	[SETTING_ID_TMP_SIZE] = {
		.key = "slipway.tmpSize", .env = "SLIPWAY_TMP_SIZE",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "1G", .zero_off = 1,
		.help = "the most app code may keep in its private `/tmp` (memory, one per build step, "
			"release command, process and one-off); `0`: the kernel's default, half the RAM" },
	[SETTING_ID_APP_OVERLAY] = {
		.key = "slipway.appOverlay", .env = "SLIPWAY_APP_OVERLAY",
		.type = SETTING_TYPE_BOOL, .scope = APP_, .def = "true",
		.help = "a process's `/app` is the slug's one shared tree under a writable overlay of "
			"its own; `false`: a copy of the slug per process (slower to start, written "
			"to disk)" },
	[SETTING_ID_APP_WRITE_SIZE] = {
		.key = "slipway.appWriteSize", .env = "SLIPWAY_APP_WRITE_SIZE",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "1G", .zero_off = 1,
		.help = "the most a process may write under its `/app` overlay (memory, gone when "
			"it stops); `0`: the kernel's default, half the RAM" },
	[SETTING_ID_BUILD_DIR] = {
		.key = "slipway.buildDir", .env = "SLIPWAY_BUILD_DIR",
		.type = SETTING_TYPE_PATH, .scope = APP_,
		.def_doc = "a tmpfs when the tree fits, else `<root>/builds` "
			   "([where builds run](install.md#where-builds-run))",
		.help = "builds run in `DIR/<app>/`, always" },
	[SETTING_ID_TMPFS] = {
		.key = "slipway.tmpfs", .env = "SLIPWAY_TMPFS",
		.type = SETTING_TYPE_PATH, .scope = APP_, .def_doc = "`/dev/shm`",
		.help = "the tmpfs builds run in when the tree fits; `none`: never in a tmpfs" },
	[SETTING_ID_STACK] = {
		.key = "slipway.stack", .env = "SLIPWAY_STACK",
		.type = SETTING_TYPE_STRING, .scope = APP_, .def = "heroku-22",
		.help = "the `STACK` buildpacks see" },
	[SETTING_ID_BUILD_NETWORK] = {
		.key = "slipway.buildNetwork", .env = "SLIPWAY_BUILD_NETWORK",
		.type = SETTING_TYPE_ENUM, .scope = APP_, .def = "shared", .values = "shared|none",
		.unit = "build network",
		.help = "`none` cuts builds off the network (loopback only)" },
	[SETTING_ID_APP_NETWORK] = {
		.key = "slipway.appNetwork", .env = "SLIPWAY_APP_NETWORK",
		.type = SETTING_TYPE_ENUM, .scope = APP_, .def = "private", .values = "private|host",
		.unit = "app network",
		.help = "`private`: each process, one-off and release command in a network of its "
			"own, a process reached only through its `$PORT` (outbound as the host's); "
			"`host`: the host's network, its loopback services included "
			"([security model](security.md))" },
	[SETTING_ID_SANDBOX] = {
		.key = "slipway.sandbox", .env = "SLIPWAY_SANDBOX",
		.type = SETTING_TYPE_ENUM, .scope = APP_, .def = "bwrap", .values = "bwrap|none",
		.unit = "sandbox",
		.help = "where app code runs: the bubblewrap sandbox, or `none` "
			"([security model](security.md))" },
	[SETTING_ID_BWRAP] = {
		.key = "slipway.bwrap", .env = "SLIPWAY_BWRAP",
		.type = SETTING_TYPE_PROGRAM, .scope = APP_, .def_doc = "`bwrap` from `PATH`",
		.help = "the bubblewrap program" },
	[SETTING_ID_TIMINGS] = {
		.key = "slipway.timings", .env = "SLIPWAY_TIMINGS",
		.type = SETTING_TYPE_BOOL, .scope = APP_, .def = "false",
		.help = "print each build stage's time after `Released`" },
	[SETTING_ID_KEEP_BUILDS] = {
		.key = "slipway.keepBuilds", .env = "SLIPWAY_KEEP_BUILDS",
		.type = SETTING_TYPE_COUNT, .scope = APP_, .def = "100",
		.help = "how many builds each app keeps with their output (`builds`)" },
	[SETTING_ID_BRANCH] = {
		.key = "slipway.branch",
		.type = SETTING_TYPE_STRING, .scope = APP_, .def_doc = "`main` and `master`",
		.help = "the only branch that deploys (`apps:create --branch`)" },
	[SETTING_ID_REJECT_FAILED_BUILDS] = {
		.key = "slipway.rejectFailedBuilds",
		.type = SETTING_TYPE_BOOL, .scope = APP_, .def = "true",
		.help = "a failed build rejects the push; `false` builds after the push is accepted "
			"(`apps:create --accept-failed-builds`)" },
	[SETTING_ID_FAILED_RELEASE_EXIT] = {
		.key = "slipway.failedReleaseExit", .env = "SLIPWAY_FAILED_RELEASE_EXIT",
		.type = SETTING_TYPE_BOOL, .scope = APP_, .def = "false",
		.help = "`true`: the push builds and releases before git updates the branch, so a "
			"failed release fails the push (non-zero exit, branch not moved)" },
	[SETTING_ID_RELEASE_TIMEOUT] = {
		.key = "slipway.releaseTimeout", .env = "SLIPWAY_RELEASE_TIMEOUT",
		.type = SETTING_TYPE_DURATION, .scope = APP_, .def = "1h",
		.help = "how long a release command (and `slipway.onRelease`) may run" },
	/* an argv, one word per value: no environment variable */
	[SETTING_ID_ON_RELEASE] = {
		.key = "slipway.onRelease",
		.type = SETTING_TYPE_LIST, .scope = APP_, .def_doc = "none",
		.help = "a program run after every release becomes current, one word per value "
			"(`git config --add`; [running releases with something else]"
			"(runtime.md#running-releases-with-something-else))" },
	[SETTING_ID_BOOT_TIMEOUT] = {
		.key = "slipway.bootTimeout", .env = "SLIPWAY_BOOT_TIMEOUT",
		.type = SETTING_TYPE_DURATION, .scope = APP_, .def = "60",
		.help = "how long a new `web` instance has to accept connections on `$PORT`" },
	[SETTING_ID_STOP_TIMEOUT] = {
		.key = "slipway.stopTimeout", .env = "SLIPWAY_STOP_TIMEOUT",
		.type = SETTING_TYPE_DURATION, .scope = APP_, .def = "30",
		.help = "from SIGTERM to SIGKILL when an instance stops" },
	[SETTING_ID_WATCH] = {
		.key = "slipway.watch", .env = "SLIPWAY_WATCH",
		.type = SETTING_TYPE_DURATION, .scope = APP_, .def = "60", .zero_off = 1,
		.help = "how long a new release is watched for crashes and failed health checks "
			"(automatic rollback); `0` turns it off" },
	[SETTING_ID_WARM_PREVIOUS] = {
		.key = "slipway.warmPrevious", .env = "SLIPWAY_WARM_PREVIOUS",
		.type = SETTING_TYPE_DURATION, .scope = APP_, .def = "60", .zero_off = 1,
		.help = "how long the previous release's web instances keep running out of the "
			"router after a switch, so that a rollback to it starts no process; "
			"`0` turns it off" },
	[SETTING_ID_PORT_RANGE] = {
		.key = "slipway.portRange", .env = "SLIPWAY_PORT_RANGE",
		.type = SETTING_TYPE_PORT_RANGE, .scope = APP_, .def = "20000-29999",
		.help = "the ports instances get as `$PORT`" },
	[SETTING_ID_ADDON_PORT_RANGE] = {
		.key = "slipway.addonPortRange", .env = "SLIPWAY_ADDON_PORT_RANGE",
		.type = SETTING_TYPE_PORT_RANGE, .scope = SERVER_, .def = "30000-30999",
		.help = "the ports add-on servers listen on (127.0.0.1); apart from "
			"`slipway.portRange`" },
	[SETTING_ID_ADDON_BACKUPS] = {
		.key = "slipway.addonBackups", .env = "SLIPWAY_ADDON_BACKUPS",
		.type = SETTING_TYPE_COUNT, .scope = SERVER_, .def = "7", .min = 1, .max = 1000,
		.help = "how many completed backups each PostgreSQL add-on keeps: after a capture "
			"the oldest beyond these are removed" },
	[SETTING_ID_MAX_INSTANCES] = {
		.key = "slipway.maxInstances", .env = "SLIPWAY_MAX_INSTANCES",
		.type = SETTING_TYPE_COUNT, .scope = APP_, .def = "20", .min = 1, .max = 1000,
		.help = "how many instances `ps:scale` may run per app, all types together" },
	[SETTING_ID_MEMORY] = {
		.key = "slipway.memory", .env = "SLIPWAY_MEMORY",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "512M", .zero_off = 1,
		.help = "each instance's memory quota (Heroku's standard-1x): over it the logs say "
			"`Error R14`, at twice it the instance is killed (`Error R15`) and restarted; "
			"`0`: no limit ([limits](runtime.md#limits))" },
	[SETTING_ID_MAX_PROCESSES] = {
		.key = "slipway.maxProcesses", .env = "SLIPWAY_MAX_PROCESSES",
		.type = SETTING_TYPE_COUNT, .scope = APP_, .def = "256", .max = 1000000, .zero_off = 1,
		.unit = "processes",
		.help = "processes and threads each instance may run at once (and each build, release "
			"command and one-off); `0`: no limit" },
	[SETTING_ID_BUILD_MEMORY] = {
		.key = "slipway.buildMemory", .env = "SLIPWAY_BUILD_MEMORY",
		.type = SETTING_TYPE_SIZE, .scope = APP_, .def = "2G", .zero_off = 1,
		.help = "the most memory a build's buildpacks may use: the kernel ends the build "
			"there; `0`: no limit ([limits](runtime.md#limits))" },
	[SETTING_ID_HTTP_PORT] = {
		.key = "slipway.httpPort", .env = "SLIPWAY_HTTP_PORT",
		.type = SETTING_TYPE_PORT, .scope = SERVER_,
		.def_doc = "80 if it can be bound, else 5000 (kept once chosen)",
		.help = "the router's port" },
	[SETTING_ID_HTTPS_PORT] = {
		.key = "slipway.httpsPort", .env = "SLIPWAY_HTTPS_PORT",
		.type = SETTING_TYPE_PORT, .scope = SERVER_,
		.def_doc = "443 if it can be bound, else 5443 (kept once chosen)",
		.help = "the router's HTTPS port, for the apps that have a certificate "
			"([HTTPS](https.md))" },
	[SETTING_ID_ACME_DIRECTORY] = {
		.key = "slipway.acmeDirectory", .env = "SLIPWAY_ACME_DIRECTORY",
		.type = SETTING_TYPE_STRING, .scope = SERVER_,
		.def = "https://acme-v02.api.letsencrypt.org/directory",
		.help = "the ACME directory `certs:auto:enable` asks for certificates (Let's Encrypt's) "
			"([automatic certificates](https.md#automatic-certificates))" },
	[SETTING_ID_ACME_CA_BUNDLE] = {
		.key = "slipway.acmeCaBundle", .env = "SLIPWAY_ACME_CA_BUNDLE",
		.type = SETTING_TYPE_PATH, .scope = SERVER_, .def_doc = "none",
		.help = "a PEM file of CA certificates the ACME client trusts for the directory's "
			"HTTPS, besides the system's (a private or test CA's)" },
	[SETTING_ID_ACME_EMAIL] = {
		.key = "slipway.acmeEmail", .env = "SLIPWAY_ACME_EMAIL",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def_doc = "none",
		.help = "the contact address of the server's ACME account (expiry notices)" },
	[SETTING_ID_ACME_RESOLVER] = {
		.key = "slipway.acmeResolver", .env = "SLIPWAY_ACME_RESOLVER",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def_doc = "the system's resolver",
		.help = "the DNS server (`ADDRESS:PORT`) `certs:auto:enable`'s checks ask where a "
			"domain points and what its CAA records say, the one the CA asks when it is not "
			"the public DNS" },
	[SETTING_ID_ACME_CAA_IDENTITY] = {
		.key = "slipway.acmeCaaIdentity", .env = "SLIPWAY_ACME_CAA_IDENTITY",
		.type = SETTING_TYPE_STRING, .scope = SERVER_,
		.def_doc = "the ACME directory's `meta.caaIdentities`",
		.help = "the domain the CA goes by in CAA records (`letsencrypt.org`), which "
			"`certs:auto:enable`'s checks look for; when neither this nor the directory "
			"names one, CAA is not checked ([automatic certificates]"
			"(https.md#automatic-certificates))" },
	[SETTING_ID_ACME_HTTP_PORT] = {
		.key = "slipway.acmeHttpPort", .env = "SLIPWAY_ACME_HTTP_PORT",
		.type = SETTING_TYPE_PORT, .scope = SERVER_, .def = "80", .max = 65535,
		.help = "the port the CA checks HTTP-01 challenges on, which `certs:auto:enable`'s "
			"checks probe: 80 for a public CA, forwarded to `slipway.httpPort` when that is "
			"another; a test CA's may differ" },
	[SETTING_ID_HTTP_ADDRESS] = {
		.key = "slipway.httpAddress", .env = "SLIPWAY_HTTP_ADDRESS",
		.type = SETTING_TYPE_ADDRESS, .scope = SERVER_, .def_doc = "every address",
		.help = "the router's address (an IPv4 address such as `127.0.0.1`)" },
	[SETTING_ID_DOMAIN] = {
		.key = "slipway.domain", .env = "SLIPWAY_DOMAIN",
		.type = SETTING_TYPE_HOST, .scope = SERVER_, .def = "localhost",
		.help = "apps answer at `APP.DOMAIN`" },
	[SETTING_ID_DASHBOARD_HOST] = {
		.key = "slipway.dashboardHost", .env = "SLIPWAY_DASHBOARD_HOST",
		.type = SETTING_TYPE_HOST, .scope = SERVER_, .def_doc = "`dashboard.DOMAIN`",
		.help = "the host name the dashboard answers at ([dashboard](dashboard.md)); best "
			"outside the apps' domain" },
	[SETTING_ID_MAINTENANCE_PAGE] = {
		.key = "slipway.maintenancePage", .env = "SLIPWAY_MAINTENANCE_PAGE",
		.type = SETTING_TYPE_PATH, .scope = SERVER_, .def_doc = "a built-in page",
		.help = "the HTML file maintenance mode serves" },
	[SETTING_ID_ROUTER] = {
		.key = "slipway.router", .env = "SLIPWAY_ROUTER",
		.type = SETTING_TYPE_ENUM, .scope = SERVER_, .def = "own", .values = "own|system",
		.help = "`own`: Slipway runs nginx; `system`: your nginx includes Slipway's files" },
	[SETTING_ID_NGINX] = {
		.key = "slipway.nginx", .env = "SLIPWAY_NGINX",
		.type = SETTING_TYPE_PROGRAM, .scope = SERVER_, .def = "nginx",
		.help = "the nginx program" },
	/* an argv, one word per value: no environment variable */
	[SETTING_ID_ROUTER_RELOAD] = {
		.key = "slipway.routerReload",
		.type = SETTING_TYPE_LIST, .scope = SERVER_, .def_doc = "none",
		.help = "with `slipway.router system`: the command that reloads your nginx, one word "
			"per value" },
	[SETTING_ID_ROUTER_CONNECTIONS] = {
		.key = "slipway.routerConnections", .env = "SLIPWAY_ROUTER_CONNECTIONS",
		.type = SETTING_TYPE_COUNT, .scope = SERVER_, .def = "8192",
		.min = 32, .max = 1000000, .unit = "connections",
		.help = "connections each router worker holds, clients' and apps' together" },
	[SETTING_ID_ROUTER_CLIENT_CONNECTIONS] = {
		.key = "slipway.routerClientConnections", .env = "SLIPWAY_ROUTER_CLIENT_CONNECTIONS",
		.type = SETTING_TYPE_COUNT, .scope = SERVER_, .def = "256",
		.min = 1, .max = 65535, .unit = "connections",
		.help = "requests one client address may have going through the router at once "
			"(429 beyond)" },
	[SETTING_ID_MAX_REQUEST_SIZE] = {
		.key = "slipway.maxRequestSize", .env = "SLIPWAY_MAX_REQUEST_SIZE",
		.type = SETTING_TYPE_SIZE, .scope = SERVER_, .def = "100M",
		.help = "the largest request body the router takes (413 beyond)" },
	[SETTING_ID_LOCK_TIMEOUT] = {
		.key = "slipway.lockTimeout", .env = "SLIPWAY_LOCK_TIMEOUT",
		.type = SETTING_TYPE_DURATION, .scope = SERVER_, .def = "600",
		.help = "how long a writer waits for a lock: an app's, and those of the domain, "
			"key and access lists" },
	[SETTING_ID_CLIENT_TIMEOUT] = {
		.key = "slipway.clientTimeout", .env = "SLIPWAY_CLIENT_TIMEOUT",
		.type = SETTING_TYPE_DURATION, .scope = SERVER_, .def = "60",
		.help = "how long a writer waits for a client that stopped reading before it drops "
			"the rest of the output and finishes its release" },
	[SETTING_ID_BUILDPACKS_DIR] = {
		.key = "slipway.buildpacksDir", .env = "SLIPWAY_BUILDPACKS_DIR",
		.type = SETTING_TYPE_PATH, .scope = SERVER_, .def_doc = "where `slipway` was built",
		.help = "the shipped buildpacks" },
	[SETTING_ID_AUTHORIZED_KEYS] = {
		.key = "slipway.authorizedKeys", .env = "SLIPWAY_AUTHORIZED_KEYS",
		.type = SETTING_TYPE_PATH, .scope = SERVER_, .def_doc = "`~/.ssh/authorized_keys`",
		.help = "the file `keys:add` writes" },
	/* only in git config: what remote users are told to push to */
	[SETTING_ID_GIT_URL] = {
		.key = "slipway.gitUrl",
		.type = SETTING_TYPE_STRING, .scope = SERVER_,
		.def_doc = "`USER@HOST:APP.git` (`ssh://USER@HOST:PORT/APP.git` off port 22)",
		.help = "the git URL `apps:create` and `apps:info` give users over ssh, with one `%s` "
			"for the app" },
	/* no environment variable: a client's environment must never decide it */
	[SETTING_ID_SSH_APPS_CREATE] = {
		.key = "slipway.sshAppsCreate",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def = "denied",
		.help = "whether users may create apps over ssh (`apps:create`, or a first push to "
			"`APP.git`): `allowed`, `denied`, or how many apps each may create (0 to 100000)" },
	[SETTING_ID_SSH_APPS_CREATORS] = {
		.key = "slipway.sshAppsCreators",
		.type = SETTING_TYPE_LIST, .scope = SERVER_, .def_doc = "none",
		.help = "users who may create apps over ssh, with no limit, whatever "
			"`slipway.sshAppsCreate` says: one name per value (`git config --global --add`)" },
	[SETTING_ID_REPO_URL] = {
		.key = "slipway.repoUrl", .env = NULL,
		.type = SETTING_TYPE_STRING, .scope = APP_, .def_doc = "none",
		.help = "the dashboard links deploy hashes to this URL, one `%s` for the commit: "
			"`https://github.com/org/repo/commit/%s`" },
	/* slugs in S3 (docs/s3.md): unset endpoint, slugs stay on this server only */
	[SETTING_ID_S3_ENDPOINT] = {
		.key = "slipway.s3Endpoint", .env = "SLIPWAY_S3_ENDPOINT",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def_doc = "none: slugs are not sent to S3",
		.help = "the S3-compatible store slugs are uploaded to before their release is "
			"recorded: `https://s3.eu-west-1.amazonaws.com`" },
	[SETTING_ID_S3_BUCKET] = {
		.key = "slipway.s3Bucket", .env = "SLIPWAY_S3_BUCKET",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def_doc = "none",
		.help = "the bucket slugs go to, as `slipway/slugs/SHA256.tar.zst`" },
	[SETTING_ID_S3_REGION] = {
		.key = "slipway.s3Region", .env = "SLIPWAY_S3_REGION",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def = "us-east-1",
		.help = "the region requests are signed for (AWS Signature Version 4)" },
	[SETTING_ID_S3_ACCESS_KEY_ID] = {
		.key = "slipway.s3AccessKeyId", .env = "SLIPWAY_S3_ACCESS_KEY_ID",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def_doc = "none",
		.help = "the access key id requests are signed with" },
	[SETTING_ID_S3_SECRET_FILE] = {
		.key = "slipway.s3SecretFile", .env = "SLIPWAY_S3_SECRET_FILE",
		.type = SETTING_TYPE_PATH, .scope = SERVER_, .def_doc = "none",
		.help = "a file holding the secret access key, readable by the server user only "
			"(mode 0600): the secret is never a setting's value" },
	/* the ledger mirrored (docs/hosts.md, "Standby control") */
	[SETTING_ID_STANDBY] = {
		.key = "slipway.standby", .env = "SLIPWAY_STANDBY",
		.type = SETTING_TYPE_STRING, .scope = SERVER_, .def_doc = "none: no mirror",
		.help = "the standby control each release's ledger is pushed to, "
			"`ssh://slipway@ADDRESS[:PORT]` (it allows this server's key with "
			"hosts:allow --standby)" },
};

#undef APP_
#undef SERVER_

const struct setting *settings_find(const char *key)
{
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		if (!strcmp(settings_table[i].key, key))
			return &settings_table[i];
	return NULL;
}

const char *settings_type_name(enum setting_type type)
{
	static const char *const names[] = {
		[SETTING_TYPE_DURATION] = "duration", [SETTING_TYPE_SIZE] = "size",
		[SETTING_TYPE_COUNT] = "count", [SETTING_TYPE_BOOL] = "boolean",
		[SETTING_TYPE_STRING] = "string", [SETTING_TYPE_PATH] = "path",
		[SETTING_TYPE_PROGRAM] = "program", [SETTING_TYPE_LIST] = "list",
		[SETTING_TYPE_PORT] = "port", [SETTING_TYPE_PORT_RANGE] = "port range",
		[SETTING_TYPE_ADDRESS] = "address", [SETTING_TYPE_HOST] = "host name",
		[SETTING_TYPE_ENUM] = "one of",
	};
	return names[type];
}

const char *settings_scope_name(enum setting_scope scope)
{
	return scope == SETTING_SCOPE_SERVER ? "server" : "app";
}

const char *settings_origin_name(enum setting_origin from)
{
	static const char *const names[] = {
		[SETTING_FROM_DEFAULT] = "default", [SETTING_FROM_ENV] = "environment",
		[SETTING_FROM_APP] = "app", [SETTING_FROM_GLOBAL] = "global",
	};
	return names[from];
}

/* A config file as it was when a snapshot was read from it. */
struct stamp {
	char *path;
	int exists;
	struct stat st;
};

/*
 * One snapshot, shared by every open of the same settings in this process
 * (cache below): the cache holds one reference, each open one more.
 */
struct settings {
	git_config *cfg;      /* the repository's with the global one, or the global one */
	char *key;            /* the repository's real path; "" for the server-wide settings */
	struct stamp *stamps; /* the files cfg was read from */
	size_t nstamps;
	int refs;
	struct settings *next;
};

static struct settings *cache;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *trace_to;

void settings_trace(FILE *f)
{
	trace_to = f;
}

static void stamps_add(struct settings *s, const char *path)
{
	s->stamps = xrealloc(s->stamps, (s->nstamps + 1) * sizeof(*s->stamps));
	struct stamp *t = &s->stamps[s->nstamps++];
	t->path = xstrdup(path);
	t->exists = stat(path, &t->st) == 0;
}

/* name in each directory of libgit2's search path for level (':'-separated). */
static void stamps_add_level(struct settings *s, int level, const char *name)
{
	git_buf dirs = GIT_BUF_INIT;
	if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, level, &dirs) < 0)
		return;
	for (const char *d = dirs.ptr; d && *d;) {
		size_t n = strcspn(d, ":");
		char *path = xasprintf("%.*s/%s", (int)n, d, name);
		stamps_add(s, path);
		free(path);
		d += n + (d[n] == ':');
	}
	git_buf_dispose(&dirs);
}

/* The files git_config_open_default() reads: system, XDG and global. */
static void stamps_add_global(struct settings *s)
{
	stamps_add_level(s, GIT_CONFIG_LEVEL_SYSTEM, "gitconfig");
	stamps_add_level(s, GIT_CONFIG_LEVEL_XDG, "config");
	stamps_add_level(s, GIT_CONFIG_LEVEL_GLOBAL, ".gitconfig");
}

static int stamp_same(const struct stamp *t)
{
	struct stat st;
	int exists = stat(t->path, &st) == 0;
	if (exists != t->exists)
		return 0;
	return !exists ||
	       (st.st_dev == t->st.st_dev && st.st_ino == t->st.st_ino &&
		st.st_size == t->st.st_size && st.st_mtim.tv_sec == t->st.st_mtim.tv_sec &&
		st.st_mtim.tv_nsec == t->st.st_mtim.tv_nsec &&
		st.st_ctim.tv_sec == t->st.st_ctim.tv_sec &&
		st.st_ctim.tv_nsec == t->st.st_ctim.tv_nsec);
}

/* 1 if s was read from the files that are there now (the same search path too). */
static int still_fresh(struct settings *s)
{
	struct settings now = { 0 };
	if (*s->key) /* the repository's own config, where its first open found it */
		stamps_add(&now, s->stamps[0].path);
	stamps_add_global(&now);
	int same = now.nstamps == s->nstamps;
	for (size_t i = 0; i < now.nstamps; i++) {
		same = same && !strcmp(now.stamps[i].path, s->stamps[i].path) &&
		       stamp_same(&s->stamps[i]);
		free(now.stamps[i].path);
	}
	free(now.stamps);
	return same;
}

static void settings_destroy(struct settings *s)
{
	for (size_t i = 0; i < s->nstamps; i++)
		free(s->stamps[i].path);
	free(s->stamps);
	git_config_free(s->cfg);
	free(s->key);
	free(s);
}

static void unref(struct settings *s)
{
	if (s && --s->refs == 0)
		settings_destroy(s);
}

/*
 * Reads a snapshot for key: the repository at key, or ("") the global
 * config.  The files are stamped before they are read, so a change while
 * reading makes the next open read them again.
 */
static int snapshot_read(const char *key, struct settings **out)
{
	git_repository *repo = NULL;
	git_config *live = NULL;
	struct settings *s = xcalloc(1, sizeof(*s));
	int err = 0;

	s->key = xstrdup(key);
	s->refs = 1;
	if (*key) {
		if ((err = sw_git_open(&repo, key)))
			goto done;
		char *path = xasprintf("%sconfig", git_repository_path(repo)); /* it ends in / */
		stamps_add(s, path);
		free(path);
		stamps_add_global(s);
		if (git_repository_config(&live, repo) < 0) {
			err = sw_git_error(SW_ERROR, "cannot read repository config");
			goto done;
		}
	} else {
		stamps_add_global(s);
		if (git_config_open_default(&live) < 0) {
			err = sw_git_error(SW_ERROR, "cannot read git config");
			goto done;
		}
	}
	if (git_config_snapshot(&s->cfg, live) < 0)
		err = sw_git_error(SW_ERROR, "cannot read git config");
	else if (trace_to)
		fprintf(trace_to, *key ? "settings: read the git config of app '%s' (pid %ld)\n"
				       : "settings: read the git config of the server%s (pid %ld)\n",
			key, (long)getpid());
done:
	git_config_free(live);
	git_repository_free(repo);
	if (err)
		settings_destroy(s);
	else
		*out = s;
	return err;
}

/* The cached snapshot for key when its files are unchanged, else a fresh one (cached). */
static int settings_get(struct settings **out, const char *key)
{
	struct settings **p, *s = NULL;
	int err = 0;

	*out = NULL;
	sw_git_init();
	pthread_mutex_lock(&cache_mu);
	for (p = &cache; *p && strcmp((*p)->key, key); p = &(*p)->next)
		;
	if (*p && still_fresh(*p)) {
		s = *p;
	} else if (!(err = snapshot_read(key, &s))) {
		if (*p) { /* stale: the cache's reference goes, its holders keep theirs */
			s->next = (*p)->next;
			unref(*p);
		}
		*p = s;
	}
	if (s) {
		s->refs++;
		*out = s;
	}
	pthread_mutex_unlock(&cache_mu);
	return err;
}

int settings_open_repo(struct settings **out, const char *git_dir)
{
	/* "." from a hook and <root>/apps/APP.git from a command are one repository */
	char *real = realpath(git_dir, NULL);
	int err = settings_get(out, real ? real : git_dir);
	free(real);
	return err;
}

int settings_open(struct settings **out, const char *root, const char *app)
{
	if (!app)
		return settings_get(out, "");
	char *path = app_repo_path(root, app);
	int err = settings_open_repo(out, path);
	free(path);
	return err;
}

void settings_free(struct settings *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&cache_mu);
	unref(s);
	pthread_mutex_unlock(&cache_mu);
}

/*
 * The value git config gives key at a level below the app repository's:
 * the last one written at the most specific of those levels.
 */
static int server_entry(git_config *cfg, const char *key, char **out, int *level)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int rc;

	if (git_config_multivar_iterator_new(&it, cfg, key, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot read git config");
	while ((rc = git_config_next(&e, it)) == 0) {
		if ((int)e->level >= GIT_CONFIG_LEVEL_LOCAL || (*out && (int)e->level < *level))
			continue;
		free(*out);
		*out = xstrdup(e->value ? e->value : "");
		*level = (int)e->level;
	}
	git_config_iterator_free(it);
	return rc == GIT_ITEROVER ? 0 : sw_git_error(SW_ERROR, "cannot read git config");
}

/* def's value in s's git config (NULL: none) and its level; server-wide ones skip the app's. */
static int config_value(struct settings *s, const struct setting *def, char **out, int *level)
{
	*out = NULL;
	if (def->scope == SETTING_SCOPE_SERVER)
		return server_entry(s->cfg, def->key, out, level);
	git_config_entry *e = NULL;
	int rc = git_config_get_entry(&e, s->cfg, def->key);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return sw_git_error(SW_ERROR, "cannot read git config");
	*out = xstrdup(e->value ? e->value : "");
	*level = (int)e->level;
	git_config_entry_free(e);
	return 0;
}

/* The raw value and where it came from; *out NULL when set nowhere. */
static int lookup(struct settings *s, const struct setting *def, char **out,
		  enum setting_origin *from)
{
	const char *v = def->env ? getenv(def->env) : NULL;
	int level = 0, err;
	*out = NULL;
	*from = SETTING_FROM_DEFAULT;
	if (v && *v) {
		*from = SETTING_FROM_ENV;
		*out = xstrdup(v);
		return 0;
	}
	if ((err = config_value(s, def, out, &level)) || !*out)
		return err;
	*from = level >= GIT_CONFIG_LEVEL_LOCAL ? SETTING_FROM_APP : SETTING_FROM_GLOBAL;
	return 0;
}

static int blame(const struct setting *def, enum setting_origin from, int err)
{
	if (from == SETTING_FROM_ENV)
		return sw_error_prefix(err, "$%s: ", def->env);
	if (from != SETTING_FROM_DEFAULT)
		return sw_error_prefix(err, "git config %s: ", def->key);
	return err;
}

int settings_blame(struct settings *s, const struct setting *def, int err)
{
	struct sw_error_state why;
	enum setting_origin from;
	char *v = NULL;
	sw_error_save(&why, err);
	int rc = lookup(s, def, &v, &from);
	free(v);
	if (rc)
		return rc;
	sw_error_restore(&why);
	return blame(def, from, err);
}

int settings_string(struct settings *s, const struct setting *def, char **out)
{
	enum setting_origin from;
	int err = lookup(s, def, out, &from);
	if (!err && !*out && def->def)
		*out = xstrdup(def->def);
	return err;
}

/* The values of the most specific config that has any, and that config's level. */
static int list_values(struct settings *s, const struct setting *def, struct strvec *out,
		       int *top)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	struct strvec values = STRVEC_INIT;
	int *levels = NULL, rc;

	*top = 0;
	strvec_clear(out);
	if (git_config_multivar_iterator_new(&it, s->cfg, def->key, NULL) < 0)
		return sw_git_error(SW_ERROR, "cannot read git config");
	while ((rc = git_config_next(&e, it)) == 0) {
		if (def->scope == SETTING_SCOPE_SERVER && (int)e->level >= GIT_CONFIG_LEVEL_LOCAL)
			continue; /* server-wide: not the app's to say */
		levels = xrealloc(levels, (values.n + 1) * sizeof(*levels));
		levels[values.n] = (int)e->level;
		strvec_push(&values, e->value ? e->value : "");
		if (values.n == 1 || levels[values.n - 1] > *top)
			*top = levels[values.n - 1];
	}
	git_config_iterator_free(it);
	int err = rc == GIT_ITEROVER ? 0 : sw_git_error(SW_ERROR, "cannot read git config");
	/* the most specific config that has any value has all of them */
	for (size_t i = 0; !err && i < values.n; i++)
		if (levels[i] == *top)
			strvec_push(out, values.v[i]);
	strvec_clear(&values);
	free(levels);
	return err;
}

int settings_list(struct settings *s, const struct setting *def, struct strvec *out)
{
	int top;
	return list_values(s, def, out, &top);
}

/* The value to check: the one set, else the default; NULL when neither. */
static const char *value_or_default(const struct setting *def, const char *v)
{
	return v ? v : def->def;
}

int settings_seconds(struct settings *s, const struct setting *def, int *out)
{
	enum setting_origin from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	const char *t = value_or_default(def, v);
	if (!err && t && def->zero_off && !strcmp(t, "0"))
		*out = 0;
	else if (!err && t && (err = units_parse_seconds(t, out)))
		err = blame(def, from, err);
	free(v);
	return err;
}

int settings_size(struct settings *s, const struct setting *def, uint64_t *out)
{
	enum setting_origin from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	const char *t = value_or_default(def, v);
	if (!err && t && def->zero_off && !strcmp(t, "0"))
		*out = 0;
	else if (!err && t && (err = units_parse_size(t, out)))
		err = blame(def, from, err);
	free(v);
	return err;
}

#define COUNT_MAX 1000000000ULL

/* t as a whole number from 1 to COUNT_MAX, then within the row's bounds. */
static int parse_count(const struct setting *def, const char *t, uint64_t *out)
{
	char *end = NULL;
	if (def->zero_off && !strcmp(t, "0")) {
		*out = 0;
		return 0;
	}
	errno = 0;
	unsigned long long n = strtoull(t, &end, 10);
	if (!*t || *t < '0' || *t > '9' || *end || errno || n < 1 || n > COUNT_MAX)
		return sw_error_set(SW_EINVALID, "invalid number '%s': use a whole number from 1", t);
	uint64_t min = def->min ? def->min : 1, max = def->max ? def->max : COUNT_MAX;
	if (n < min || n > max)
		return sw_error_set(SW_EINVALID, "invalid value '%llu': use %s%s%s%llu to %llu", n,
				    def->unit ? "a number of " : "", def->unit ? def->unit : "",
				    def->unit ? " from " : "",
				    (unsigned long long)min, (unsigned long long)max);
	*out = n;
	return 0;
}

int settings_count(struct settings *s, const struct setting *def, uint64_t *out)
{
	enum setting_origin from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	const char *t = value_or_default(def, v);
	if (!err && t && (err = parse_count(def, t, out)))
		err = blame(def, from, err);
	free(v);
	return err;
}

int settings_bool(struct settings *s, const struct setting *def, int *out)
{
	enum setting_origin from;
	char *v = NULL;
	int err = lookup(s, def, &v, &from);
	const char *t = value_or_default(def, v);
	if (!err && t) {
		if (git_config_parse_bool(out, t) < 0)
			err = blame(def, from, sw_error_set(SW_EINVALID,
				"invalid boolean '%s': use true or false", t));
	}
	free(v);
	return err;
}

/* The place of word t in values ("a|b|c"), or -1; the words as "a, b or c" into list. */
static int enum_index(const char *values, const char *t, struct buf *list)
{
	int found = -1, i = 0;
	for (const char *v = values; *v; i++) {
		size_t n = strcspn(v, "|");
		if (strlen(t) == n && !strncmp(v, t, n))
			found = i;
		buf_addf(list, "%s%.*s", i == 0 ? "" : v[n] ? ", " : " or ", (int)n, v);
		v += n + (v[n] == '|');
	}
	return found;
}

int settings_enum(struct settings *s, const struct setting *def, int *index)
{
	enum setting_origin from;
	struct buf list = BUF_INIT;
	char *v = NULL;
	int err = lookup(s, def, &v, &from), i;
	const char *t = value_or_default(def, v);
	if (!err && t && (i = enum_index(def->values, t, &list)) >= 0)
		*index = i;
	else if (!err && t)
		err = blame(def, from, sw_error_set(SW_EINVALID, "invalid %s '%s': use %s",
						    def->unit ? def->unit : "value", t, list.data));
	buf_release(&list);
	free(v);
	return err;
}

int settings_port_range(struct settings *s, const struct setting *def, int *first, int *last)
{
	char *v = NULL, *end = NULL;
	int err = settings_string(s, def, &v);
	if (err || !v) {
		free(v);
		return err ? err : sw_error_set(SW_EINVALID, "%s is not set", def->key);
	}
	long a = v[0] >= '0' && v[0] <= '9' ? strtol(v, &end, 10) : -1, b = -1;
	if (a >= 0 && *end == '-' && end[1] >= '0' && end[1] <= '9')
		b = strtol(end + 1, &end, 10);
	if (a < 1024 || b > 65535 || a > b || *end)
		err = settings_blame(s, def, sw_error_set(SW_EINVALID,
			"invalid value '%s': use a range of ports FIRST-LAST within 1024-65535, for example 20000-29999",
			v));
	else {
		*first = (int)a;
		*last = (int)b;
	}
	free(v);
	return err;
}

int settings_effective(struct settings *s, const struct setting *def, char **value,
		       enum setting_origin *from)
{
	*value = NULL;
	*from = SETTING_FROM_DEFAULT;
	if (def->type != SETTING_TYPE_LIST) {
		int err = lookup(s, def, value, from);
		if (!err && !*value && def->def)
			*value = xstrdup(def->def);
		return err;
	}
	struct strvec words = STRVEC_INIT;
	int top, err = list_values(s, def, &words, &top);
	if (!err && words.n) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < words.n; i++)
			buf_addf(&b, "%s%s", i ? " " : "", words.v[i]);
		*value = buf_detach(&b);
		*from = top >= GIT_CONFIG_LEVEL_LOCAL ? SETTING_FROM_APP : SETTING_FROM_GLOBAL;
	}
	strvec_clear(&words);
	return err;
}

int settings_read_seconds(const char *root, const char *app, const struct setting *def,
			  int *seconds)
{
	struct settings *s = NULL;
	int err = settings_open(&s, root, app);
	if (!err)
		err = settings_seconds(s, def, seconds);
	settings_free(s);
	return err;
}

int settings_lock_wait(int *seconds)
{
	return settings_read_seconds(NULL, NULL, &SETTING_LOCK_TIMEOUT, seconds);
}

int settings_client_timeout(int *seconds)
{
	return settings_read_seconds(NULL, NULL, &SETTING_CLIENT_TIMEOUT, seconds);
}

/* 1 if user is one of slipway.sshAppsCreators. */
static int ssh_apps_creator(struct settings *s, const char *user, int *yes)
{
	struct strvec names = STRVEC_INIT;
	int err = settings_list(s, &SETTING_SSH_APPS_CREATORS, &names);
	*yes = 0;
	for (size_t i = 0; !err && user && i < names.n; i++)
		if (!strcmp(names.v[i], user))
			*yes = 1;
	strvec_clear(&names);
	return err;
}

int settings_ssh_apps_create(const char *user, int *max)
{
	struct settings *s = NULL;
	char *v = NULL;
	int creator = 0;
	int err = settings_open(&s, NULL, NULL);
	if (!err)
		err = settings_string(s, &SETTING_SSH_APPS_CREATE, &v);
	if (!err) {
		char *end = NULL;
		errno = 0;
		long n = v[0] >= '0' && v[0] <= '9' ? strtol(v, &end, 10) : -1;
		if (!strcmp(v, "allowed"))
			*max = -1;
		else if (!strcmp(v, "denied"))
			*max = 0;
		else if (n >= 0 && !*end && !errno && n <= SETTINGS_APPS_MAX)
			*max = (int)n;
		else
			err = settings_blame(s, &SETTING_SSH_APPS_CREATE, sw_error_set(SW_EINVALID,
				"invalid value '%s': use allowed, denied or how many apps each user may create (0 to %d)",
				v, SETTINGS_APPS_MAX));
	}
	if (!err && !(err = ssh_apps_creator(s, user, &creator)) && creator)
		*max = -1;
	free(v);
	settings_free(s);
	return err;
}

/* 1 if fmt has one %s and no other %. */
static int git_url_format_ok(const char *fmt)
{
	const char *p = strchr(fmt, '%');
	return p && p[1] == 's' && !strchr(p + 2, '%');
}

int settings_git_url(const char *app, char **out)
{
	struct settings *s = NULL;
	char *fmt = NULL;
	int err = settings_open(&s, NULL, NULL);

	*out = NULL;
	if (!err)
		err = settings_string(s, &SETTING_GIT_URL, &fmt);
	if (!err && fmt && !git_url_format_ok(fmt))
		err = settings_blame(s, &SETTING_GIT_URL, sw_error_set(SW_EINVALID,
			"invalid URL '%s': write it with one %%s for the app name, for example "
			"git@deploy.example.com:%%s.git", fmt));
	else if (!err && fmt) {
		const char *at = strchr(fmt, '%');
		*out = xasprintf("%.*s%s%s", (int)(at - fmt), fmt, app, at + 2);
	}
	free(fmt);
	settings_free(s);
	return err;
}

int settings_repo_url_check(const char *fmt)
{
	int scheme = !strncmp(fmt, "https://", 8) || !strncmp(fmt, "http://", 7);
	int clean = 1;
	for (const unsigned char *p = (const unsigned char *)fmt; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\'' || *p == '<' || *p == '>')
			clean = 0;
	if (scheme && clean && git_url_format_ok(fmt))
		return 0;
	return sw_error_set(SW_EINVALID, "invalid repository URL '%s': write it as http:// or "
			    "https:// with one %%s for the commit, for example "
			    "https://github.com/org/repo/commit/%%s", fmt);
}

int settings_repo_url(struct settings *s, char **out)
{
	int err = settings_string(s, &SETTING_REPO_URL, out);
	if (!err && *out && (err = settings_repo_url_check(*out)) < 0) {
		free(*out);
		*out = NULL;
		err = settings_blame(s, &SETTING_REPO_URL, err);
	}
	return err;
}

int settings_set_repo_url(const char *root, const char *app, const char *fmt)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *path = app_repo_path(root, app);
	int set = fmt && *fmt, err = set ? settings_repo_url_check(fmt) : 0;
	sw_git_init();
	if (!err && (git_repository_open_bare(&repo, path) < 0 ||
		     git_repository_config(&cfg, repo) < 0))
		err = sw_git_error(SW_ERROR, "cannot open the app's config");
	if (!err && set && git_config_set_string(cfg, SETTING_REPO_URL.key, fmt) < 0)
		err = sw_git_error(SW_ERROR, "cannot write the app's config");
	if (!err && !set) {
		int rc = git_config_delete_entry(cfg, SETTING_REPO_URL.key);
		if (rc < 0 && rc != GIT_ENOTFOUND)
			err = sw_git_error(SW_ERROR, "cannot write the app's config");
	}
	git_config_free(cfg);
	git_repository_free(repo);
	free(path);
	return err;
}

/* s in a table cell: '|' escaped. */
static void put_cell(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
}

/* The type column: "count, 32 to 1000000", "one of `own`, `system`". */
static void put_type(FILE *f, const struct setting *d)
{
	fputs(settings_type_name(d->type), f);
	if (d->type == SETTING_TYPE_COUNT)
		fprintf(f, ", %llu to %llu", (unsigned long long)(d->min ? d->min : 1),
			(unsigned long long)(d->max ? d->max : COUNT_MAX));
	if (d->type == SETTING_TYPE_ENUM)
		for (const char *v = d->values; *v;) {
			size_t n = strcspn(v, "|");
			fprintf(f, "%s`%.*s`", v == d->values ? " " : ", ", (int)n, v);
			v += n + (v[n] == '|');
		}
	if (d->zero_off)
		fputs(", or `0`", f);
}

static void put_row(FILE *f, const struct setting *d)
{
	fprintf(f, "| `%s` | ", d->key);
	if (d->env)
		fprintf(f, "`%s`", d->env);
	fputs(" | ", f);
	put_type(f, d);
	fprintf(f, " | %s | ", settings_scope_name(d->scope));
	if (d->def)
		fprintf(f, "`%s`", d->def);
	else
		put_cell(f, d->def_doc ? d->def_doc : "");
	fputs(" | ", f);
	put_cell(f, d->help);
	fputs(" |\n", f);
}

int settings_write_reference(FILE *f)
{
	fputs("# Settings\n\n"
	      "<!-- Made by slipway-docgen from the settings table (store/settings.c): do not\n"
	      "edit. Change the table, then run: build/slipway-docgen settings > docs/settings.md -->\n\n"
	      "Every setting is read the same way: its environment variable first, then\n"
	      "the app's repository (`git --git-dir=<root>/apps/APP.git config slipway.NAME\n"
	      "VALUE`; per-app settings only), then the server user's global git config\n"
	      "(`git config --global slipway.NAME VALUE`: every app), then the default.\n"
	      "An empty environment variable counts as unset. A malformed value fails\n"
	      "what needs it and says where it was set (`git config\n"
	      "slipway.compileTimeout: invalid timeout 'soon': …`). `slipway settings\n"
	      "[-a APP] [--json]` shows every setting's value and where it comes from.\n\n"
	      "Durations are written `90`, `90s`, `15m`, `1h` (1 second to 7 days);\n"
	      "sizes `4096`, `512K`, `500M`, `2G`; booleans `true`/`false`, `yes`/`no`,\n"
	      "`on`/`off`, `1`/`0`; lists one word per value (`git config --add`). Paths\n"
	      "are absolute. Scope `server` settings are the server's alone: an app's\n"
	      "repository cannot change them.\n\n"
	      "| setting | environment | type | scope | default | what |\n"
	      "|---|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < SETTINGS_COUNT; i++)
		put_row(f, &settings_table[i]);
	return fflush(f) || ferror(f) ? -1 : 0;
}

extern char **environ;

void settings_env(struct strvec *env)
{
	static const char *const keep[] = { "HOME=", "XDG_CONFIG_HOME=", "GIT_CONFIG_NOSYSTEM=",
					    "GIT_CONFIG_GLOBAL=", "SLIPWAY_", NULL };
	static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789_";
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		int kept = 0;
		for (size_t i = 0; keep[i] && !kept; i++)
			kept = !strncmp(*e, keep[i], strlen(keep[i]));
		if (!kept || !eq || !strncmp(*e, "SLIPWAY_SHELL_USER=", 19) ||
		    !strncmp(*e, "SLIPWAY_USER=", 13) || strspn(*e, name_chars) != (size_t)(eq - *e))
			continue;
		strvec_push(env, *e);
	}
}
