#define _GNU_SOURCE
#include "builder/shipdetect.h"

#include "store/cas.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger than any shipped bin/detect: a bigger one is not one of them. */
#define DETECT_MAX 4096

/*
 * One shipped bin/detect: it prints name and exits 0 when one of any_file is
 * a regular file ([ -f "$1/x" ]) and none of none exists ([ -e "$1/x" ]).
 * The hash pins the bytes this rule was written from: a script changed in
 * buildpacks/ no longer matches (and the shipdetect tests say so) until its
 * rule and hash here are brought in line.
 */
struct rule {
	const char *sha256;
	const char *name;
	const char *const *any_file;
	const char *const *none;
};

static const char *const node_files[] = { "package.json", NULL };
static const char *const python_files[] = { "requirements.txt", "setup.py", "pyproject.toml",
					    NULL };
static const char *const make_files[] = { "GNUmakefile", "makefile", "Makefile",
					  "CMakeLists.txt", NULL };
static const char *const static_files[] = { "index.html", NULL };
static const char *const static_none[] = { "package.json", "requirements.txt", "setup.py",
					   "pyproject.toml", "GNUmakefile", "makefile",
					   "Makefile", "CMakeLists.txt", NULL };
static const char *const procfile_files[] = { "Procfile", NULL };

static const struct rule rules[] = {
	{ "f5db2bb447c80ddbf761805b0a86c784b42f26dd6c3c84fe7f8f80d5f53b84ca", /* node */
	  "Node.js", node_files, NULL },
	{ "0fc4647faaf6d6e1de7e7d764c2ed242181b560ea0bed068fadabf2fb569badd", /* python */
	  "Python", python_files, NULL },
	{ "78df8a0f8ca427903023385bd7bf35665c9e0246bbc88e1820177dbe7ddabe3f", /* make */
	  "Make", make_files, NULL },
	{ "c041fb45299603530e1bca3f478cdef6ee18611a345b2975d01ec2671d0bbec2", /* static */
	  "Static", static_files, static_none },
	{ "712a599563570e2602426da536c14f1152ade8b15c99a7b7a1036f780ad82eec", /* procfile */
	  "Procfile", procfile_files, NULL },
};

/* The rule of bp_dir's bin/detect, or NULL when it is not a shipped script as it ships. */
static const struct rule *known_script(const char *bp_dir)
{
	char *bin = xasprintf("%s/bin", bp_dir), *path = xasprintf("%s/detect", bin);
	char *text = NULL, hex[CAS_HEX_LEN + 1] = "";
	const struct rule *found = NULL;
	struct stat st;
	size_t len = 0;

	/* as script_argv() would run it: executable, so no "running it with sh" warning */
	if (lstat(bin, &st) < 0 || !S_ISDIR(st.st_mode) || access(path, X_OK) < 0 ||
	    fs_read_tree_file(bin, "detect", DETECT_MAX, &text, &len) < 0 ||
	    cas_hash_data(text, len, hex) < 0)
		goto done;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && !found; i++)
		if (!strcmp(hex, rules[i].sha256))
			found = &rules[i];
done:
	free(text);
	free(path);
	free(bin);
	return found;
}

enum kind { ABSENT, REGULAR, OTHER, UNSURE };

/* What `test` sees at <dirfd>/name; UNSURE for a symlink or a failed stat. */
static enum kind kind_of(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? ABSENT : UNSURE;
	if (S_ISLNK(st.st_mode))
		return UNSURE;
	return S_ISREG(st.st_mode) ? REGULAR : OTHER;
}

/* 1 applies, 0 does not, -1 unsure; every name is looked at, whatever the order. */
static int apply(const struct rule *r, int dirfd)
{
	int file = 0, excluded = 0;
	for (size_t i = 0; r->any_file[i]; i++) {
		enum kind k = kind_of(dirfd, r->any_file[i]);
		if (k == UNSURE)
			return -1;
		file |= k == REGULAR;
	}
	for (size_t i = 0; r->none && r->none[i]; i++) {
		enum kind k = kind_of(dirfd, r->none[i]);
		if (k == UNSURE)
			return -1;
		excluded |= k != ABSENT;
	}
	return file && !excluded;
}

int shipdetect_answer(const char *bp_dir, const char *label, const char *build_dir,
		      char **name_out)
{
	const struct rule *r = known_script(bp_dir);
	int dirfd = -1, ret = SHIPDETECT_RUN;

	*name_out = NULL;
	if (!r || (dirfd = open(build_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto done;
	switch (apply(r, dirfd)) {
	case 1:
		*name_out = xstrdup(r->name);
		ret = 0;
		break;
	case 0:
		ret = sw_error_set(SW_ENOTFOUND, "buildpack '%s' does not apply",
				   label ? label : bp_dir);
		break;
	}
done:
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}
