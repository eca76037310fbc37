/*
 * The Debian package scripts/package built (the ctest fixture package/build,
 * into SLIPWAY_DEB_DIR): the files a server needs are in it (the binary,
 * its manual pages and bash completion, the buildpacks, the runtime's unit
 * and the daily gc's), the units run slipway on the package's root as its
 * user, it depends only on what Debian main has, its version is the
 * project's, and lintian finds no error in it.
 */
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *deb, *dir;

static void setup(void)
{
	struct th_result r = th_runv(NULL, NULL, "dpkg", "--print-architecture", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	deb = th_path("%s/slipway_%s_%s.deb", SLIPWAY_DEB_DIR, SLIPWAY_VERSION, r.out);
	th_result_free(&r);
	cr_assert_eq(access(deb, R_OK), 0, "no package at %s (the test package/build makes it)", deb);
	dir = th_sandbox();
}

static void teardown(void)
{
	th_sandbox_free(dir);
	free(deb);
}

TestSuite(package, .init = setup, .fini = teardown, .timeout = 300);

/* dpkg-deb's answer to one question about the package; malloc'ed. */
static char *dpkg_deb(const char *option, const char *field)
{
	struct th_result r = th_runv(NULL, NULL, "dpkg-deb", option, deb, field, NULL);
	cr_assert_eq(r.status, 0, "dpkg-deb %s: %s", option, r.err);
	free(r.err);
	return r.out;
}

/* A file of the package, read from its unpacked tree; malloc'ed. */
static char *packaged(const char *path)
{
	char *tree = th_path("%s/tree", dir);
	if (access(tree, F_OK)) {
		struct th_result r = th_runv(NULL, NULL, "dpkg-deb", "-x", deb, tree, NULL);
		cr_assert_eq(r.status, 0, "%s", r.err);
		th_result_free(&r);
	}
	char *file = th_path("%s%s", tree, path), *text = th_read(file, NULL);
	cr_assert(text, "the package has no %s", path);
	free(file);
	free(tree);
	return text;
}

Test(package, holds_the_binary_its_manual_pages_completion_buildpacks_and_units)
{
	char *list = dpkg_deb("-c", NULL);
	static const char *const files[] = {
		" ./usr/bin/slipway\n",
		" ./usr/share/man/man1/slipway.1.gz\n",
		" ./usr/share/man/man1/slipway-apps.1.gz\n",
		" ./usr/share/man/man1/slipway-releases.1.gz\n",
		" ./usr/share/bash-completion/completions/slipway\n",
		" ./usr/share/slipway/buildpacks/procfile/bin/compile\n",
		" ./usr/share/slipway/buildpacks/node/lib/semver.sh\n",
		" ./lib/systemd/system/slipway.service\n",
		" ./lib/systemd/system/slipway-gc.service\n",
		" ./lib/systemd/system/slipway-gc.timer\n",
		" ./usr/share/doc/slipway/copyright\n",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		cr_assert(strstr(list, files[i]), "no%s in the package:\n%s", files[i], list);
	/* root's, whoever built it */
	const char *bin = strstr(list, " ./usr/bin/slipway\n");
	while (bin > list && bin[-1] != '\n')
		bin--;
	cr_assert(!strncmp(bin, "-rwxr-xr-x root/root ", 21), "%.60s", bin);
	free(list);
}

Test(package, its_units_run_slipway_on_the_packages_root_as_the_server_user)
{
	char *unit = packaged("/lib/systemd/system/slipway.service");
	cr_assert(strstr(unit, "\nExecStart=/usr/bin/slipway --root /var/lib/slipway server:run\n"),
		  "%s", unit);
	cr_assert(strstr(unit, "\nExecStop=/usr/bin/slipway --root /var/lib/slipway server:stop\n"),
		  "%s", unit);
	cr_assert(strstr(unit, "\nUser=git\n") && strstr(unit, "\nDelegate=yes\n"), "%s", unit);
	cr_assert(strstr(unit, "\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n"), "%s", unit);
	cr_assert(strstr(unit, "\nWantedBy=multi-user.target\n"), "%s", unit);
	free(unit);
	char *gc = packaged("/lib/systemd/system/slipway-gc.service");
	cr_assert(strstr(gc, "\nExecStart=/usr/bin/slipway --root /var/lib/slipway gc\n"), "%s", gc);
	cr_assert(strstr(gc, "\nUser=git\n") && strstr(gc, "\nType=oneshot\n"), "%s", gc);
	free(gc);
	char *timer = packaged("/lib/systemd/system/slipway-gc.timer");
	cr_assert(strstr(timer, "\nOnCalendar=daily\n") && strstr(timer, "\nPersistent=true\n"),
		  "%s", timer);
	free(timer);
}

Test(package, depends_only_on_debian_main)
{
	char *depends = dpkg_deb("-f", "Depends");
	static const char *const needed[] = { " git,", " openssh-server,", " nginx-light | nginx,",
					      " s6,", " bubblewrap,", " libarchive13," };
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		cr_assert(strstr(depends, needed[i]), "Depends has no%s: %s", needed[i], depends);
	free(depends);
	char *recommends = dpkg_deb("-f", "Recommends");
	cr_assert_str_eq(recommends, "uacme, nodejs, npm, python3-venv, build-essential\n");
	free(recommends);
	char *suggests = dpkg_deb("-f", "Suggests");
	cr_assert_str_eq(suggests, "postgresql-15, redis-server\n");
	free(suggests);
	char *version = dpkg_deb("-f", "Version");
	cr_assert_str_eq(version, SLIPWAY_VERSION "\n", "debian/changelog and CMakeLists.txt differ");
	free(version);
}

Test(package, asks_its_questions_and_sets_up_the_server_in_its_maintainer_scripts)
{
	char *ctl = th_path("%s/control", dir);
	struct th_result r = th_runv(NULL, NULL, "dpkg-deb", "-e", deb, ctl, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	th_result_free(&r);
	char *path = th_path("%s/templates", ctl), *templates = th_read(path, NULL);
	static const char *const questions[] = { "slipway/user", "slipway/user-taken",
						 "slipway/import-root-keys", "slipway/domain",
						 "slipway/purge-data" };
	for (size_t i = 0; i < sizeof(questions) / sizeof(questions[0]); i++) {
		char *line = th_path("Template: %s\n", questions[i]);
		cr_assert(templates && strstr(templates, line), "no %s in:\n%s", line, templates);
		free(line);
	}
	free(templates);
	free(path);
	static const char *const scripts[] = { "config", "postinst", "postrm", "prerm" };
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		path = th_path("%s/%s", ctl, scripts[i]);
		r = th_runv(NULL, NULL, "sh", "-n", path, NULL);
		cr_assert_eq(r.status, 0, "%s: %s", scripts[i], r.err);
		th_result_free(&r);
		free(path);
	}
	free(ctl);
}

Test(package, lintian_finds_no_error)
{
	struct th_result r = th_runv(NULL, NULL, "lintian", "--fail-on", "error", deb, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(!strstr(r.out, "\nE: ") && strncmp(r.out, "E: ", 3), "%s", r.out);
	th_result_free(&r);
}
