#define _GNU_SOURCE
#include "store/apphosts.h"

#include "store/hosts.h"
#include "store/listfile.h"
#include "store/paths.h"
#include "util/error.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static int host_line(const char *line, size_t kept)
{
	(void)kept;
	return !strcmp(line, HOST_LOCAL) || host_name_valid(line);
}

static const struct listfile apphosts_file = {
	.path = paths_apphosts_file,
	.max = 64 << 10,
	.check = host_line,
};

static const struct listfile placed_file = {
	.path = paths_apphosts_placed_file,
	.max = 64 << 10,
	.check = host_line,
};

/*
 * The app's hosts of the run hosts v[n] into out: those set, else local
 * and, of the run hosts, those placed (every one when everywhere).
 */
static int select_hosts(const char *root, const char *app, const struct host_rec *v, size_t n,
			int everywhere, struct strvec *out, int *all)
{
	struct strvec set = STRVEC_INIT, placed = STRVEC_INIT;
	int err = listfile_read(&apphosts_file, root, app, &set);
	if (!err && !everywhere)
		err = listfile_read(&placed_file, root, app, &placed);
	if (err < 0)
		goto done;
	*all = set.n == 0;
	if (*all || strvec_has(&set, HOST_LOCAL))
		strvec_push(out, HOST_LOCAL);
	for (size_t i = 0; i < n; i++)
		if (*all ? everywhere || strvec_has(&placed, v[i].name) : strvec_has(&set, v[i].name))
			strvec_push(out, v[i].name);
done:
	strvec_clear(&set);
	strvec_clear(&placed);
	return err;
}

int apphosts_select(const char *root, const char *app, const struct host_rec *v, size_t n,
		    struct strvec *out, int *all)
{
	return select_hosts(root, app, v, n, 0, out, all);
}

/* select_hosts() of the run hosts recorded. */
static int hosts_of(const char *root, const char *app, int everywhere, struct strvec *out,
		    int *all)
{
	struct host_rec *v = NULL;
	size_t n = 0;
	int err = hosts_read(root, &v, &n);
	if (!err)
		err = select_hosts(root, app, v, n, everywhere, out, all);
	hosts_free(v, n);
	return err;
}

int apphosts_list(const char *root, const char *app, struct strvec *out, int *all)
{
	return hosts_of(root, app, 0, out, all);
}

int apphosts_placement(const char *root, const char *app, struct strvec *out)
{
	int all = 0;
	return hosts_of(root, app, 1, out, &all);
}

int apphosts_placement_of(const char *root, const char *app, const struct host_rec *v,
			  size_t n, struct strvec *out)
{
	int all = 0;
	return select_hosts(root, app, v, n, 1, out, &all);
}

int apphosts_share_of(const char *root, const char *app, const char *host, size_t *i,
		      size_t *n)
{
	struct strvec v = STRVEC_INIT;
	int err = apphosts_placement(root, app, &v);
	*n = v.n;
	for (*i = 0; *i < v.n && strcmp(v.v[*i], host); (*i)++)
		;
	strvec_clear(&v);
	return err;
}

int apphosts_placed(const char *root, const char *app, const char *host)
{
	struct strvec placed = STRVEC_INIT;
	int err = listfile_read(&placed_file, root, app, &placed);
	if (!err && !strvec_has(&placed, host)) {
		strvec_push(&placed, host);
		err = listfile_write(&placed_file, root, app, &placed);
	}
	strvec_clear(&placed);
	return err;
}

int apphosts_unplaced(const char *root, const char *app, const char *host)
{
	struct strvec placed = STRVEC_INIT, kept = STRVEC_INIT;
	int err = listfile_read(&placed_file, root, app, &placed);
	for (size_t i = 0; !err && i < placed.n; i++)
		if (strcmp(placed.v[i], host))
			strvec_push(&kept, placed.v[i]);
	if (!err && kept.n != placed.n)
		err = listfile_write(&placed_file, root, app, &kept);
	strvec_clear(&placed);
	strvec_clear(&kept);
	return err;
}

int apphosts_strays(const char *root, const char *app, struct strvec *out)
{
	struct strvec placed = STRVEC_INIT, serve = STRVEC_INIT;
	struct host_rec *v = NULL;
	size_t n = 0;
	int err = hosts_read(root, &v, &n);
	if (!err)
		err = listfile_read(&placed_file, root, app, &placed);
	if (!err)
		err = apphosts_placement_of(root, app, v, n, &serve);
	for (size_t i = 0; !err && i < n; i++)
		if (strvec_has(&placed, v[i].name) && !strvec_has(&serve, v[i].name))
			strvec_push(out, v[i].name);
	hosts_free(v, n);
	strvec_clear(&placed);
	strvec_clear(&serve);
	return err;
}

int apphosts_has(const char *root, const char *app, const char *host)
{
	struct strvec v = STRVEC_INIT;
	int all = 0, has = apphosts_list(root, app, &v, &all) == 0 && strvec_has(&v, host);
	strvec_clear(&v);
	return has;
}

int apphosts_set(const char *root, const char *app, const char *spec)
{
	struct strvec want = STRVEC_INIT;
	struct host_rec *v = NULL;
	size_t n = 0;
	int err = hosts_read(root, &v, &n);
	if (err < 0)
		return err;
	if (strcmp(spec, "all")) {
		char *copy = xstrdup(spec), *save = NULL;
		for (char *h = strtok_r(copy, ",", &save); h && !err; h = strtok_r(NULL, ",", &save)) {
			int known = !strcmp(h, HOST_LOCAL);
			for (size_t i = 0; i < n && !known; i++)
				known = !strcmp(v[i].name, h);
			if (!known)
				err = sw_error_set(SW_EINVALID,
					"there is no host '%.64s': give hosts of 'slipway hosts' (local is this server), or all",
					h);
			else if (!strvec_has(&want, h))
				strvec_push(&want, h);
		}
		free(copy);
		if (!err && !want.n)
			err = sw_error_set(SW_EINVALID,
				"give the hosts as h1,h2 (local is this server), or all");
	}
	if (!err)
		err = listfile_write(&apphosts_file, root, app, &want);
	strvec_clear(&want);
	hosts_free(v, n);
	return err;
}
