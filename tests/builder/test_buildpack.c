#define _GNU_SOURCE
#include "builder/buildpack.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FIXTURE(name) TESTS_DIR "/fixtures/buildpacks/" name
#define PROCFILE_BP SOURCE_DIR "/buildpacks/procfile"
#define ALIAS_MSG "bin/release output uses YAML aliases, which are not supported"

static char *sb, *build, *cache, *envdir;
/* where the buildpacks run: the test's directories and the buildpacks mounted */
static struct sandbox box = SANDBOX_INIT;

static void setup(void)
{
	sb = th_sandbox();
	sandbox_mount(&box, sb, "/job", 1);
	sandbox_mount(&box, TESTS_DIR "/fixtures/buildpacks", "/fixtures", 0);
	sandbox_mount(&box, SOURCE_DIR "/buildpacks", "/shipped", 0);
	build = th_path("%s/build dir", sb);
	cache = th_path("%s/cache", sb);
	envdir = th_path("%s/env", sb);
	cr_assert(fs_mkdir_p(build, 0755) == 0 && fs_mkdir_p(cache, 0755) == 0 &&
		  fs_mkdir_p(envdir, 0755) == 0);
}

static void teardown(void)
{
	sandbox_release(&box);
	free(build);
	free(cache);
	free(envdir);
	th_sandbox_free(sb);
}

TestSuite(buildpack, .init = setup, .fini = teardown, .timeout = 60);

static void collect(const char *line, size_t len, void *ctx)
{
	char *copy = xstrndup(line, len);
	strvec_push(ctx, copy);
	free(copy);
}

static int has_line(const struct strvec *v, const char *line)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], line))
			return 1;
	return 0;
}

static int parse(const char *yaml, struct proc_list *p, struct config *c)
{
	return buildpack_parse_release(yaml, strlen(yaml), p, c);
}

/* Runs the catyaml fixture on yaml. */
static int release_of(const char *yaml, struct proc_list *p, struct config *c)
{
	char *path = th_path("%s/release.yml", build);
	th_write(path, yaml, 0644);
	free(path);
	return buildpack_release(&box, FIXTURE("catyaml"), NULL, build, NULL, NULL, NULL, p, c);
}

/* --- detect --- */

Test(buildpack, detect_applies_with_trimmed_first_line)
{
	struct strvec lines = STRVEC_INIT;
	char *name = NULL;
	cr_assert_eq(buildpack_detect(&box, FIXTURE("yes"), NULL, build, NULL, collect, &lines, &name), 0,
		     "%s", sw_error_last());
	cr_assert_str_eq(name, "Yes Pack");
	char *want = xstrdup("detect looked at /job/build dir"); /* the path inside the sandbox */
	cr_assert(has_line(&lines, want), "stderr was not relayed");
	cr_assert_eq(lines.n, 1); /* stdout is the name, not relayed */
	free(want);
	free(name);
	strvec_clear(&lines);
}

Test(buildpack, detect_does_not_apply)
{
	struct strvec lines = STRVEC_INIT;
	char *name = (char *)"x";
	cr_assert_eq(buildpack_detect(&box, FIXTURE("no"), NULL, build, NULL, collect, &lines, &name),
		     SW_ENOTFOUND);
	cr_assert_null(name);
	cr_assert(has_line(&lines, "no Gemfile here"));
	strvec_clear(&lines);
}

Test(buildpack, detect_without_output_is_named_by_dir)
{
	char *name = NULL;
	cr_assert_eq(buildpack_detect(&box, FIXTURE("silent") "/", NULL, build, NULL, NULL, NULL, &name), 0,
		     "%s", sw_error_last());
	cr_assert_str_eq(name, "silent");
	free(name);
}

Test(buildpack, detect_missing_or_not_a_file)
{
	char *bp = th_path("%s/bp", sb), *detect = th_path("%s/bp/bin/detect", sb);
	char *name = NULL;
	cr_assert_eq(fs_mkdir_p(bp, 0755), 0);
	cr_assert_eq(buildpack_detect(&box, bp, "https://example.com/x.git#v3", build, NULL, NULL,
				      NULL, &name), SW_ERROR);
	cr_assert_str_eq(sw_error_last(),
			 "buildpack 'https://example.com/x.git#v3' has no executable bin/detect");
	cr_assert_eq(fs_mkdir_p(detect, 0755), 0);
	cr_assert_eq(buildpack_detect(&box, bp, NULL, build, NULL, NULL, NULL, &name), SW_ERROR);
	char *want = th_path("buildpack '%s' has no executable bin/detect", bp);
	cr_assert_str_eq(sw_error_last(), want);
	cr_assert_null(name);
	free(want);
	free(detect);
	free(bp);
}

Test(buildpack, scripts_without_execute_permission_run_with_sh)
{
	char *bp = th_path("%s/bp", sb);
	char *detect = th_path("%s/bin/detect", bp), *compile = th_path("%s/bin/compile", bp);
	char *release = th_path("%s/bin/release", bp);
	struct strvec lines = STRVEC_INIT;
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	char *name = NULL;
	th_write(detect, "echo Plain\n", 0644);
	th_write(compile, "echo compiled \"$#\"\n", 0644);
	th_write(release, "echo 'default_process_types: { web: ./run }'\n", 0600);
	cr_assert_eq(buildpack_detect(&box, bp, "plain", build, NULL, collect, &lines, &name), 0,
		     "%s", sw_error_last());
	cr_assert_str_eq(name, "Plain");
	cr_assert(has_line(&lines, " !     Warning: bin/detect of buildpack 'plain' is not "
				   "executable; running it with sh"));
	cr_assert_eq(buildpack_compile(&box, bp, "plain", build, cache, envdir, NULL, 0, collect,
				       &lines), 0, "%s", sw_error_last());
	cr_assert(has_line(&lines, "compiled 3"));
	cr_assert(has_line(&lines, " !     Warning: bin/compile of buildpack 'plain' is not "
				   "executable; running it with sh"));
	cr_assert_eq(buildpack_release(&box, bp, "plain", build, NULL, collect, &lines, &procs,
				       &vars), 0, "%s", sw_error_last());
	cr_assert_eq(procs.n, 1);
	cr_assert_str_eq(procs.items[0].command, "./run");
	proc_list_release(&procs);
	config_release(&vars);
	strvec_clear(&lines);
	free(name);
	free(release);
	free(compile);
	free(detect);
	free(bp);
}

/* --- compile --- */

Test(buildpack, compile_gets_three_args_and_writes_dirs)
{
	struct strvec lines = STRVEC_INIT;
	cr_assert_eq(buildpack_compile(&box, FIXTURE("yes"), NULL, build, cache, envdir, NULL, 30,
				       collect, &lines), 0, "%s", sw_error_last());
	char *p = th_path("%s/compile-args", build);
	char *args = th_read(p, NULL);
	/* the sandbox shows the directories at fixed paths, never the host's */
	char *want = xstrdup("3\n/job/build dir\n/job/cache\n/job/env\n");
	cr_assert_str_eq(args, want);
	free(p);
	p = th_path("%s/compile-cwd", build);
	char *cwd = th_read(p, NULL);
	cr_assert_str_eq(cwd, "/job/build dir\n");
	free(p);
	p = th_path("%s/cache-file", cache);
	char *cached = th_read(p, NULL);
	cr_assert_str_eq(cached, "cached\n");
	cr_assert(has_line(&lines, "-----> compiling"));
	cr_assert(has_line(&lines, "a warning"));
	free(cached);
	free(p);
	free(cwd);
	free(want);
	free(args);
	strvec_clear(&lines);
}

Test(buildpack, compile_failure)
{
	struct strvec lines = STRVEC_INIT;
	cr_assert_eq(buildpack_compile(&box, FIXTURE("failing"), NULL, build, cache, envdir, NULL, 30,
				       collect, &lines), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), "failed to compile");
	cr_assert(has_line(&lines, "-----> starting"));
	cr_assert(has_line(&lines, "boom: missing dependency"));
	strvec_clear(&lines);
}

Test(buildpack, compile_missing_script)
{
	cr_assert_eq(buildpack_compile(&box, FIXTURE("no"), NULL, build, cache, envdir, NULL, 30,
				       NULL, NULL), SW_ENOTFOUND);
	cr_assert(strstr(sw_error_last(), "has no executable bin/compile"), "%s",
		  sw_error_last());
}

Test(buildpack, compile_timeout_kills_the_group)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	struct strvec lines = STRVEC_INIT;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(buildpack_compile(&box, FIXTURE("slow"), NULL, build, cache, envdir, NULL, 1,
				       collect, &lines), SW_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 10);
	cr_assert(strstr(sw_error_last(), "timed out after 1 second"), "%s", sw_error_last());
	cr_assert(has_line(&lines, "sleeping"));
	char *p = th_path("%s/sleep.pid", build), *s = th_read(p, NULL);
	cr_assert(s, "the background sleep started");
	/* everything the sandbox ran was ours to reap (we are a subreaper): reaping
	 * until none is left returns at once unless the 30 s sleep survived */
	int st;
	while (waitpid(-1, &st, 0) > 0)
		;
	cr_assert_eq(errno, ECHILD);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 10, "a process of the sandbox outlived the timeout");
	free(s);
	free(p);
	strvec_clear(&lines);
}

/* --- release --- */

Test(buildpack, release_merges_types_and_vars)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	proc_list_set(&procs, "web", "old");
	proc_list_set(&procs, "clock", "bin/clock");
	config_set(&vars, "KEEP", "1");
	cr_assert_eq(buildpack_release(&box, FIXTURE("yes"), NULL, build, NULL, NULL, NULL, &procs, &vars),
		     0, "%s", sw_error_last());
	cr_assert_eq(procs.n, 3);
	cr_assert_str_eq(proc_list_get(&procs, "web"), "bin/web --port $PORT");
	cr_assert_str_eq(proc_list_get(&procs, "worker"), "bin/worker");
	cr_assert_str_eq(proc_list_get(&procs, "clock"), "bin/clock");
	cr_assert_eq(vars.n, 5);
	cr_assert_str_eq(config_get(&vars, "KEEP"), "1");
	cr_assert_str_eq(config_get(&vars, "LANG"), "en_US.UTF-8");
	cr_assert_str_eq(config_get(&vars, "WEB_CONCURRENCY"), "3");
	cr_assert_str_eq(config_get(&vars, "DEBUG"), "false");
	cr_assert_str_eq(config_get(&vars, "QUOTED"), "it's \"quoted\"");
	proc_list_release(&procs);
	config_release(&vars);
}

Test(buildpack, release_absent_adds_nothing)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(buildpack_release(&box, FIXTURE("no"), NULL, build, NULL, NULL, NULL, &procs, &vars),
		     0, "%s", sw_error_last());
	cr_assert_eq(procs.n, 0);
	cr_assert_eq(vars.n, 0);
}

Test(buildpack, release_failure)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(buildpack_release(&box, FIXTURE("failing"), NULL, build, NULL, NULL, NULL, &procs,
				       &vars), SW_ERROR);
	cr_assert(strstr(sw_error_last(), "exit status 2"), "%s", sw_error_last());
	cr_assert_eq(procs.n, 0);
}

Test(buildpack, release_alias_bomb_is_refused)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(buildpack_release(&box, FIXTURE("bomb"), NULL, build, NULL, NULL, NULL, &procs,
				       &vars), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), ALIAS_MSG);
	cr_assert_eq(procs.n, 0);
}

Test(buildpack, release_huge_output_is_refused)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(buildpack_release(&box, FIXTURE("huge"), NULL, build, NULL, NULL, NULL, &procs,
				       &vars), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "bin/release output is larger than 1048576 bytes");
	cr_assert_eq(procs.n, 0);
}

Test(buildpack, release_syntax_error_and_sequence)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(release_of("config_vars:\n  A: 1\n   B: 2\n", &procs, &vars), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "bin/release output is not valid YAML: "),
		  "%s", sw_error_last());
	cr_assert(strstr(sw_error_last(), " at line 3"), "%s", sw_error_last());
	cr_assert_eq(release_of("- web\n- worker\n", &procs, &vars), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "bin/release output is not a YAML mapping");
	cr_assert_eq(vars.n, 0);
}

/* --- buildpack_parse_release --- */

Test(buildpack, parse_empty_documents)
{
	const char *empty[] = { "", "---\n", "--- ~\n", "# nothing\n", "---\n...\n",
				"default_process_types:\nconfig_vars: ~\n",
				"---\ndefault_process_types: {}\n" };
	for (size_t i = 0; i < sizeof(empty) / sizeof(*empty); i++) {
		struct proc_list procs = PROC_LIST_INIT;
		struct config vars = CONFIG_INIT;
		cr_assert_eq(parse(empty[i], &procs, &vars), 0, "'%s': %s", empty[i],
			     sw_error_last());
		cr_assert_eq(procs.n + vars.n, 0);
	}
}

Test(buildpack, parse_flow_style_and_documents)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(parse("{ default_process_types: { web: \"a: b\" }, addons: ~ }\n"
			   "---\nconfig_vars: { X: 1.50, Y: '' }\n"
			   "default_process_types: { web: bin/web, w-1_x: \"\\ttab\" }\n",
			   &procs, &vars), 0, "%s", sw_error_last());
	cr_assert_eq(procs.n, 2);
	cr_assert_str_eq(proc_list_get(&procs, "web"), "bin/web");
	cr_assert_str_eq(proc_list_get(&procs, "w-1_x"), "\ttab");
	cr_assert_str_eq(config_get(&vars, "X"), "1.50");
	cr_assert_str_eq(config_get(&vars, "Y"), "");
	proc_list_release(&procs);
	config_release(&vars);
}

Test(buildpack, parse_refuses_bad_shapes_and_names)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "just a string\n", "bin/release output is not a YAML mapping" },
		{ "default_process_types: [web]\n", "not a mapping" },
		{ "config_vars: text\n", "not a mapping" },
		{ "default_process_types:\n  web: [a, b]\n", "value of 'web'" },
		{ "config_vars: { A: { b: c } }\n", "value of 'A'" },
		{ "default_process_types: { \"bad name\": x }\n", "process type name 'bad name'" },
		{ "default_process_types: { web: \"\" }\n", "empty command" },
		{ "config_vars: { 1BAD: x }\n", "config var name '1BAD'" },
		{ "config_vars: { A: \"x\\0y\" }\n", "value of 'A'" },
		{ "config_vars: { [a]: x }\n", "key that is not a string" },
		{ "? [a]\n: b\n", "top-level key that is not a string" },
		{ "a: &x 1\n", ALIAS_MSG },
		{ "ignored: &x [1]\nother: *x\n", ALIAS_MSG },
		{ "config_vars: { A: \"\xff\" }\n", "not valid YAML" },
		{ "default_process_types: {web: x\n", "not valid YAML" },
		{ "config_vars: { A: 'x\n", "not valid YAML" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct proc_list procs = PROC_LIST_INIT;
		struct config vars = CONFIG_INIT;
		cr_assert_eq(parse(cases[i].yaml, &procs, &vars), SW_EINVALID, "'%s'",
			     cases[i].yaml);
		cr_assert(strstr(sw_error_last(), cases[i].msg), "'%s': %s", cases[i].yaml,
			  sw_error_last());
		cr_assert_eq(procs.n + vars.n, 0);
	}
}

Test(buildpack, parse_changes_nothing_on_error)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	config_set(&vars, "A", "old");
	cr_assert_eq(parse("config_vars: { A: new, B: 2 }\ndefault_process_types: { web: [x] }\n",
			   &procs, &vars), SW_EINVALID);
	cr_assert_eq(vars.n, 1);
	cr_assert_str_eq(config_get(&vars, "A"), "old");
	cr_assert_eq(procs.n, 0);
	config_release(&vars);
}

Test(buildpack, parse_deep_nesting_and_binary_do_not_crash)
{
	size_t depth = 100000;
	struct buf y = BUF_INIT;
	buf_adds(&y, "ignored: ");
	for (size_t i = 0; i < depth; i++)
		buf_adds(&y, "[");
	for (size_t i = 0; i < depth; i++)
		buf_adds(&y, "]");
	buf_adds(&y, "\nconfig_vars: { A: b }\n");
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(buildpack_parse_release(y.data, y.len, &procs, &vars), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "bin/release output is nested too deeply");
	cr_assert_eq(vars.n, 0);
	buf_reset(&y);
	for (unsigned i = 0; i < 70000; i++)
		buf_add(&y, &(char){ (char)(i * 131 + 7) }, 1);
	cr_assert_eq(buildpack_parse_release(y.data, y.len, &procs, &vars), SW_EINVALID);
	buf_release(&y);
}

/* --- the shipped procfile buildpack --- */

Test(buildpack, procfile_buildpack_without_procfile)
{
	char *name = NULL;
	cr_assert_eq(buildpack_detect(&box, PROCFILE_BP, NULL, build, NULL, NULL, NULL, &name), SW_ENOTFOUND);
	cr_assert_null(name);
}

Test(buildpack, procfile_buildpack_with_procfile)
{
	char *procfile = th_path("%s/Procfile", build), *name = NULL;
	th_write(procfile, "web: ./server\n", 0644);
	cr_assert_eq(buildpack_detect(&box, PROCFILE_BP, NULL, build, NULL, NULL, NULL, &name), 0, "%s",
		     sw_error_last());
	cr_assert_str_eq(name, "Procfile");
	cr_assert_eq(buildpack_compile(&box, PROCFILE_BP, NULL, build, cache, envdir, NULL, 30, NULL,
				       NULL), 0, "%s", sw_error_last());
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;
	cr_assert_eq(buildpack_release(&box, PROCFILE_BP, NULL, build, NULL, NULL, NULL, &procs, &vars),
		     0, "%s", sw_error_last());
	cr_assert_eq(procs.n + vars.n, 0);
	struct th_result r = th_runv(build, NULL, PROCFILE_BP "/bin/release", build, NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "---\ndefault_process_types: {}\n");
	th_result_free(&r);
	r = th_runv(build, NULL, PROCFILE_BP "/bin/detect", build, NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "Procfile\n");
	th_result_free(&r);
	char *content = th_read(procfile, NULL);
	cr_assert_str_eq(content, "web: ./server\n"); /* compile left the tree as is */
	free(content);
	free(name);
	free(procfile);
}
