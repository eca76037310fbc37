#define _GNU_SOURCE
#include "builder/buildpack.h"

#include "exec/sandbox.h"

#include "util/error.h"
#include "util/say.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* Output of bin/detect beyond this is refused. */
#define DETECT_OUTPUT_MAX (64 * 1024)

/* What messages call the buildpack: its label, else its directory. */
static const char *bp_name(const char *bp_dir, const char *label)
{
	return label ? label : bp_dir;
}

/*
 * The start of the argv that runs bin/<script> of bp_dir: its path, or
 * "/bin/sh" and its path when it is a regular file without execute
 * permission (as the platform runs such scripts), with a warning line to
 * on_line.  SW_ENOTFOUND when it does not exist, SW_ERROR when it is not a
 * regular file.  argv gets 1 or 2 entries; *out is the path to free.
 */
static int script_argv(const char *bp_dir, const char *label, const char *script,
		       run_line_fn on_line, void *ctx, const char **argv, size_t *n, char **out)
{
	char *path = xasprintf("%s/bin/%s", bp_dir, script);
	struct stat st;
	int ret = 0;

	*n = 0;
	if (stat(path, &st) < 0 && errno == ENOENT)
		ret = sw_error_set(SW_ENOTFOUND, "buildpack '%s' has no executable bin/%s",
				   bp_name(bp_dir, label), script);
	else if (!S_ISREG(st.st_mode))
		ret = sw_error_set(SW_ERROR, "buildpack '%s' has no executable bin/%s",
				   bp_name(bp_dir, label), script);
	if (ret < 0) {
		free(path);
		*out = NULL;
		return ret;
	}
	if (access(path, X_OK) < 0) {
		say_to(on_line, ctx, SAY_WARN, "Warning: bin/%s of buildpack '%s' is not executable; "
					       "running it with sh", script, bp_name(bp_dir, label));
		argv[(*n)++] = "/bin/sh";
	}
	argv[(*n)++] = path;
	*out = path;
	return 0;
}

/* Prefixes the last error message: "<script> of buildpack '<name>': <message>". */
static int error_wrap(int code, const char *script, const char *name)
{
	return sw_error_prefix(code, "%s of buildpack '%s': ", script, name);
}

/* The directory's last path component, without trailing slashes. */
static char *dir_basename(const char *dir)
{
	size_t end = strlen(dir);
	while (end > 1 && dir[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	return xstrndup(dir + start, end - start);
}

/* The first line of out, trimmed of surrounding white space. */
static char *first_line(const char *out)
{
	while (*out && *out != '\n' && isspace((unsigned char)*out))
		out++;
	size_t n = strcspn(out, "\n");
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		n--;
	return xstrndup(out, n);
}

int buildpack_detect(const struct sandbox *sb, const char *bp_dir, const char *label,
		     const char *build_dir, const char *const *env, run_line_fn on_line, void *ctx,
		     char **name_out)
{
	struct run_opts o = RUN_OPTS_INIT;
	struct buf out = BUF_INIT;
	char *path = NULL, *name = NULL;
	const char *argv[4];
	size_t n;
	int status, ret;

	*name_out = NULL;
	if ((ret = script_argv(bp_dir, label, "detect", on_line, ctx, argv, &n, &path)) < 0) {
		ret = SW_ERROR; /* SW_ENOTFOUND would read as "does not apply" */
		goto done;
	}
	argv[n++] = build_dir;
	argv[n] = NULL;
	o.argv = argv;
	o.env = env;
	o.dir = build_dir;
	o.timeout_sec = BUILDPACK_DETECT_TIMEOUT;
	o.on_line = on_line;
	o.ctx = ctx;
	o.capture = &out;
	o.capture_max = DETECT_OUTPUT_MAX;
	if ((ret = sandbox_run(sb, &o, &status)) < 0) {
		ret = error_wrap(ret == SW_ENOTFOUND ? SW_ERROR : ret, "bin/detect",
				 bp_name(bp_dir, label));
		goto done;
	}
	if (status != 0) {
		ret = sw_error_set(SW_ENOTFOUND, "buildpack '%s' does not apply",
				   bp_name(bp_dir, label));
		goto done;
	}
	name = first_line(out.data);
	if (!*name) {
		free(name);
		name = dir_basename(bp_dir);
	}
	*name_out = name;
done:
	buf_release(&out);
	free(path);
	return ret;
}

int buildpack_compile(const struct sandbox *sb, const char *bp_dir, const char *label,
		      const char *build_dir, const char *cache_dir, const char *env_dir,
		      const char *const *env, int timeout_sec,
		      run_line_fn on_line, void *ctx)
{
	struct run_opts o = RUN_OPTS_INIT;
	char *path = NULL;
	const char *argv[6];
	size_t n;
	int status, ret;

	if ((ret = script_argv(bp_dir, label, "compile", on_line, ctx, argv, &n, &path)) < 0)
		goto done;
	argv[n++] = build_dir;
	argv[n++] = cache_dir;
	argv[n++] = env_dir;
	argv[n] = NULL;
	o.argv = argv;
	o.env = env;
	o.dir = build_dir;
	o.timeout_sec = timeout_sec;
	o.on_line = on_line;
	o.ctx = ctx;
	if ((ret = sandbox_run(sb, &o, &status)) < 0) {
		if (ret != SW_EINVALID) /* a bound the build went past says so itself */
			ret = error_wrap(ret == SW_ETIMEOUT ? ret : SW_ERROR, "bin/compile",
					 bp_name(bp_dir, label));
		goto done;
	}
	if (status != 0)
		ret = sw_error_set(SW_ERROR, "failed to compile");
done:
	free(path);
	return ret;
}

int buildpack_release(const struct sandbox *sb, const char *bp_dir, const char *label,
		      const char *build_dir, const char *const *env, run_line_fn on_line, void *ctx,
		      struct proc_list *procs, struct config *vars)
{
	struct run_opts o = RUN_OPTS_INIT;
	struct buf out = BUF_INIT;
	char *path = NULL;
	const char *argv[4];
	size_t n;
	int status, ret;

	if ((ret = script_argv(bp_dir, label, "release", on_line, ctx, argv, &n, &path)) < 0) {
		if (ret == SW_ENOTFOUND)
			ret = 0; /* nothing to add */
		goto done;
	}
	argv[n++] = build_dir;
	argv[n] = NULL;
	o.argv = argv;
	o.env = env;
	o.dir = build_dir;
	o.timeout_sec = BUILDPACK_RELEASE_TIMEOUT;
	o.on_line = on_line;
	o.ctx = ctx;
	o.capture = &out;
	o.capture_max = BUILDPACK_RELEASE_MAX;
	if ((ret = sandbox_run(sb, &o, &status)) < 0) {
		if (ret == SW_EINVALID)
			ret = sw_error_set(ret, "bin/release output is larger than %d bytes",
					   BUILDPACK_RELEASE_MAX);
		else
			ret = error_wrap(ret == SW_ETIMEOUT ? ret : SW_ERROR, "bin/release",
					 bp_name(bp_dir, label));
		goto done;
	}
	if (status != 0) {
		ret = sw_error_set(SW_ERROR, "bin/release of buildpack '%s' failed (exit status %d)",
				   bp_name(bp_dir, label), status);
		goto done;
	}
	ret = buildpack_parse_release(out.data, out.len, procs, vars);
done:
	buf_release(&out);
	free(path);
	return ret;
}

/*
 * bin/release output, read with libyaml's event API.  Results go to
 * temporaries first and are applied only when the whole output is valid.
 */
struct rel_parser {
	yaml_parser_t yp;
	yaml_event_t ev;
	int have_ev;
	struct proc_list procs;
	struct config vars;
};

enum map_kind { MAP_PROCS, MAP_VARS };

static int syntax_error(const yaml_parser_t *yp)
{
	const char *problem = yp->problem ? yp->problem : "unknown problem";
	if (yp->error == YAML_MEMORY_ERROR)
		return sw_error_set(SW_ERROR, "out of memory reading bin/release output");
	if (yp->error == YAML_READER_ERROR)
		return sw_error_set(SW_EINVALID,
				    "bin/release output is not valid YAML: %s at byte %zu",
				    problem, yp->problem_offset);
	return sw_error_set(SW_EINVALID, "bin/release output is not valid YAML: %s at line %zu",
			    problem, yp->problem_mark.line + 1);
}

static int has_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return 1;
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor != NULL;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor != NULL;
	default:
		return 0;
	}
}

/* Moves to the next event; refuses syntax errors and any alias or anchor. */
static int next_event(struct rel_parser *p)
{
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	p->have_ev = 0;
	if (!yaml_parser_parse(&p->yp, &p->ev))
		return syntax_error(&p->yp);
	p->have_ev = 1;
	if (has_anchor(&p->ev))
		return sw_error_set(SW_EINVALID, "bin/release output uses YAML aliases, "
				    "which are not supported");
	return 0;
}

static const char *scalar(const struct rel_parser *p)
{
	return (const char *)p->ev.data.scalar.value;
}

/* A scalar without NUL bytes (so it can be used as a C string). */
static int is_text(const struct rel_parser *p)
{
	return p->ev.type == YAML_SCALAR_EVENT &&
	       !memchr(scalar(p), '\0', p->ev.data.scalar.length);
}

/* An empty value: an empty plain scalar, "~" or "null". */
static int is_null(const struct rel_parser *p)
{
	if (p->ev.type != YAML_SCALAR_EVENT ||
	    p->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *s = scalar(p);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* Skips the node whose first event is the current one. */
static int skip_node(struct rel_parser *p)
{
	int depth = 0, ret;
	do {
		yaml_event_type_t t = p->ev.type;
		if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) &&
		    ++depth > 64)
			return sw_error_set(SW_EINVALID, "bin/release output is nested too deeply");
		else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
		if (depth > 0 && (ret = next_event(p)) < 0)
			return ret;
	} while (depth > 0);
	return 0;
}

static int add_entry(struct rel_parser *p, enum map_kind kind, const char *key,
		     const char *value)
{
	if (kind == MAP_PROCS) {
		if (!proc_name_valid(key))
			return sw_error_set(SW_EINVALID, "bin/release output has an invalid "
					    "process type name '%s'", key);
		if (!*value)
			return sw_error_set(SW_EINVALID, "bin/release output has an empty "
					    "command for process type '%s'", key);
		proc_list_set(&p->procs, key, value);
		return 0;
	}
	if (!config_key_valid(key))
		return sw_error_set(SW_EINVALID, "bin/release output has an invalid "
				    "config var name '%s'", key);
	if (strlen(value) > CONFIG_VALUE_MAX)
		return sw_error_set(SW_EINVALID, "bin/release output has a value for '%s' "
				    "longer than %d bytes", key, CONFIG_VALUE_MAX);
	config_set(&p->vars, key, value);
	return 0;
}

/* Reads a mapping of scalar -> scalar; the current event is its start. */
static int parse_str_map(struct rel_parser *p, enum map_kind kind, const char *what)
{
	char *key = NULL;
	int ret = 0;

	if (is_null(p))
		goto done;
	if (p->ev.type != YAML_MAPPING_START_EVENT) {
		ret = sw_error_set(SW_EINVALID, "'%s' in bin/release output is not a mapping",
				   what);
		goto done;
	}
	for (;;) {
		if ((ret = next_event(p)) < 0 || p->ev.type == YAML_MAPPING_END_EVENT)
			goto done;
		if (!is_text(p)) {
			ret = sw_error_set(SW_EINVALID, "'%s' in bin/release output has a key "
					   "that is not a string", what);
			goto done;
		}
		free(key);
		key = xstrdup(scalar(p));
		if ((ret = next_event(p)) < 0)
			goto done;
		if (!is_text(p)) {
			ret = sw_error_set(SW_EINVALID, "value of '%s' in '%s' of bin/release "
					   "output is not a string", key, what);
			goto done;
		}
		if ((ret = add_entry(p, kind, key, scalar(p))) < 0)
			goto done;
	}
done:
	free(key);
	return ret;
}

/* The top-level mapping; the current event is its start. */
static int parse_top(struct rel_parser *p)
{
	int ret;
	for (;;) {
		if ((ret = next_event(p)) < 0 || p->ev.type == YAML_MAPPING_END_EVENT)
			return ret;
		if (!is_text(p))
			return sw_error_set(SW_EINVALID, "bin/release output has a top-level "
					    "key that is not a string");
		int kind = !strcmp(scalar(p), "default_process_types") ? MAP_PROCS :
			   !strcmp(scalar(p), "config_vars") ? MAP_VARS : -1;
		const char *what = kind == MAP_PROCS ? "default_process_types" : "config_vars";
		if ((ret = next_event(p)) < 0)
			return ret;
		ret = kind < 0 ? skip_node(p) : parse_str_map(p, (enum map_kind)kind, what);
		if (ret < 0)
			return ret;
	}
}

/* One document; the current event is its start. */
static int parse_document(struct rel_parser *p)
{
	int ret;
	if ((ret = next_event(p)) < 0)
		return ret;
	if (p->ev.type == YAML_MAPPING_START_EVENT)
		ret = parse_top(p);
	else if (!is_null(p))
		ret = sw_error_set(SW_EINVALID, "bin/release output is not a YAML mapping");
	if (ret < 0)
		return ret;
	return next_event(p); /* the document's end */
}

static void apply(struct rel_parser *p, struct proc_list *procs, struct config *vars)
{
	for (size_t i = 0; i < p->procs.n; i++)
		proc_list_set(procs, p->procs.items[i].name, p->procs.items[i].command);
	for (size_t i = 0; i < p->vars.n; i++)
		config_set(vars, p->vars.items[i].key, p->vars.items[i].value);
}

int buildpack_parse_release(const char *yaml, size_t len,
			    struct proc_list *procs, struct config *vars)
{
	struct rel_parser p = { .procs = PROC_LIST_INIT, .vars = CONFIG_INIT };
	int ret;

	if (!yaml_parser_initialize(&p.yp))
		return sw_error_set(SW_ERROR, "cannot initialize the YAML parser");
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)yaml, len);
	if ((ret = next_event(&p)) < 0) /* the stream's start */
		goto done;
	for (;;) {
		if ((ret = next_event(&p)) < 0 || p.ev.type == YAML_STREAM_END_EVENT)
			break;
		if ((ret = parse_document(&p)) < 0)
			break;
	}
	if (ret == 0)
		apply(&p, procs, vars);
done:
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.yp);
	proc_list_release(&p.procs);
	config_release(&p.vars);
	return ret;
}
