#define _GNU_SOURCE
#include "dashboard/assets.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The login form's script: the token after '#' never reaches a server's log. */
static const char login_js[] =
	"(function () {\n"
	"\tvar t = location.hash.slice(1);\n"
	"\tif (!t) return;\n"
	"\thistory.replaceState(null, '', location.pathname);\n"
	"\tvar f = document.getElementById('token');\n"
	"\tf.value = t;\n"
	"\tf.form.submit();\n"
	"})();\n";

/* Appends the stream's lines; says when it ends. No HTML: text nodes only. */
static const char logs_js[] =
	"(function () {\n"
	"\tvar log = document.getElementById('log'), live = document.getElementById('live');\n"
	"\tif (!log || !live || !window.EventSource) return;\n"
	"\tvar src = new EventSource(log.getAttribute('data-stream'));\n"
	"\tsrc.onopen = function () { live.textContent = 'Following new lines as they come.'; };\n"
	"\tsrc.onmessage = function (e) {\n"
	"\t\tlog.appendChild(document.createTextNode(e.data + '\\n'));\n"
	"\t};\n"
	"\tsrc.addEventListener('reset', function () { log.textContent = ''; });\n"
	"\tsrc.addEventListener('end', function (e) { src.close(); live.textContent = e.data; });\n"
	"\tsrc.onerror = function () {\n"
	"\t\tif (src.readyState === EventSource.CLOSED)\n"
	"\t\t\tlive.textContent = 'The live tail stopped: reload the page to follow again.';\n"
	"\t};\n"
	"})();\n";

/* Appends the stream's lines (HTML the server escaped); says how the build ended. */
static const char build_js[] =
	"(function () {\n"
	"\tvar out = document.getElementById('output'), live = document.getElementById('live');\n"
	"\tif (!out || !live || !window.EventSource) return;\n"
	"\tvar src = new EventSource(live.getAttribute('data-stream'));\n"
	"\tsrc.onopen = function () { live.textContent = 'The build is running: its output follows as it comes.'; };\n"
	"\tsrc.onmessage = function (e) { out.insertAdjacentHTML('beforeend', e.data + '\\n'); };\n"
	"\tsrc.addEventListener('end', function (e) {\n"
	"\t\tsrc.close();\n"
	"\t\tlive.textContent = 'The build ' + e.data + '. Reload the page for its release.';\n"
	"\t});\n"
	"\tsrc.addEventListener('timeout', function (e) { src.close(); live.textContent = e.data; });\n"
	"\tsrc.onerror = function () {\n"
	"\t\tif (src.readyState === EventSource.CLOSED)\n"
	"\t\t\tlive.textContent = 'The live output stopped: reload the page to follow again.';\n"
	"\t};\n"
	"})();\n";

static struct asset {
	const char *name, *body;
	char url[sizeof("/static/") + ASSETS_NAME_MAX]; /* "" until first asked */
} assets[] = {
	{ "login.js", login_js, "" },
	{ "logs.js", logs_js, "" },
	{ "build.js", build_js, "" },
};
#define NASSETS (sizeof(assets) / sizeof(*assets))

static struct asset *find(const char *name)
{
	for (size_t i = 0; i < NASSETS; i++)
		if (!strcmp(assets[i].name, name))
			return &assets[i];
	return NULL;
}

void assets_file_name(char out[ASSETS_NAME_MAX], const char *name, const char *body)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	const char *dot = strrchr(name, '.');
	size_t stem = dot ? (size_t)(dot - name) : strlen(name);
	EVP_Digest(body, strlen(body), md, &n, EVP_sha256(), NULL);
	snprintf(out, ASSETS_NAME_MAX, "%.*s.%02x%02x%02x%02x%s", (int)stem, name, md[0], md[1],
		 md[2], md[3], dot ? dot : "");
}

const char *assets_url(const char *name)
{
	struct asset *a = find(name);
	if (!a)
		return "/static/none";
	if (!a->url[0]) {
		char file[ASSETS_NAME_MAX];
		assets_file_name(file, a->name, a->body);
		snprintf(a->url, sizeof(a->url), "/static/%s", file);
	}
	return a->url;
}

const char *assets_body(const char *name)
{
	struct asset *a = find(name);
	return a ? a->body : NULL;
}

/* 1 if file is the name of an asset as this binary has it. */
static int current(const char *file)
{
	for (size_t i = 0; i < NASSETS; i++)
		if (!strcmp(assets_url(assets[i].name) + strlen("/static/"), file))
			return 1;
	return 0;
}

/* Removes what dir holds that is no asset's (an older binary's), temp files included. */
static int remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return sw_error_errno(SW_ERROR, "cannot read '%s'", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		if (current(e->d_name))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p); /* what cannot be removed is only left behind */
		free(p);
	}
	closedir(d);
	return 0;
}

int assets_write(const char *root)
{
	char *dir = paths_dashboard_kind(root, "static");
	int err = fs_mkdir_p(dir, 0755);
	for (size_t i = 0; !err && i < NASSETS; i++) {
		char *p = xasprintf("%s%s", dir, assets_url(assets[i].name) + strlen("/static"));
		err = fs_write_atomic(p, assets[i].body, strlen(assets[i].body), 0644);
		free(p);
	}
	if (!err)
		err = remove_stale(dir);
	free(dir);
	return err;
}
