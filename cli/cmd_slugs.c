/* slugs:info, slugs:contents, slugs:extract: arguments and printing. */
#define _GNU_SOURCE
#include "cli/cmds.h"
#include "cli/common.h"

#include "store/cas.h"
#include "store/ledger.h"
#include "store/slug.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Resolves "vN", "N" or a sha256 (optionally "SHA256:...") to a slug hex
 * and the release it comes from (for a sha256, the newest release of the
 * app with that slug): an app shows only the slugs of its own releases.
 */
static int resolve_slug(struct cli *c, struct ledger *l, const char *arg, char hex[65],
			struct release *r)
{
	const char *h = slug_arg_hex(arg);
	if (h) {
		int found = slug_owner(l, h, r);
		if (found < 0)
			return cli_fail();
		if (!found) {
			fprintf(stderr, " !    slug %.12s is not used by any release of %s\n", h,
				c->app);
			return 1;
		}
		memcpy(hex, h, 65);
		return 0;
	}
	int v;
	if (release_parse_version(arg, &v) < 0 ||
	    ledger_read(l, v, LEDGER_READ_PROCS, r) < 0)
		return cli_fail();
	if (!r->slug[0]) {
		fprintf(stderr, " !    release v%d of %s has no slug\n", v, c->app);
		return 1;
	}
	memcpy(hex, r->slug, 65);
	return 0;
}

struct users {
	const char *hex;
	struct buf list;
};

static int find_users(const struct release *r, void *ctx)
{
	struct users *u = ctx;
	if (strcmp(r->slug, u->hex))
		return 0;
	buf_addf(&u->list, "%sv%d", u->list.len ? ", " : "", r->version);
	return 0;
}

int cmd_slugs_info(struct cli *c)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	struct users u = { NULL, BUF_INIT };
	struct slug_stats st;
	uint64_t size = 0;
	char hex[65];
	int rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if ((rc = resolve_slug(c, l, c->args[0], hex, &r)))
		goto done;
	u.hex = hex;
	char *path = cas_path(c->root, hex);
	if (cas_lookup(c->root, hex, &size) < 0 || slug_stat(path, &st) < 0 ||
	    ledger_walk(l, 0, LEDGER_READ_PROCS, find_users, &u) < 0) {
		free(path);
		rc = cli_fail();
		goto done;
	}
	free(path);
	printf("=== Slug SHA256:%s\n", hex);
	printf("Size:       %" PRIu64 " bytes compressed, %" PRIu64 " bytes uncompressed\n", size,
	       st.bytes_in);
	printf("Files:      %" PRIu64 "\n", st.files);
	printf("Commit:     %s\n", r.commit[0] ? r.commit : "(none)");
	printf("Processes:  %s\n", r.procs.n ? "" : "(none)");
	for (size_t i = 0; i < r.procs.n; i++)
		printf("  %s: %s\n", r.procs.items[i].name, r.procs.items[i].command);
	printf("Releases:   %s\n", u.list.len ? u.list.data : "(none)");
done:
	buf_release(&u.list);
	release_release(&r);
	ledger_free(l);
	return rc;
}

static int print_entry(const struct slug_entry *e, void *ctx)
{
	(void)ctx;
	char mode[11] = "----------";
	mode[0] = e->type == 'd' ? 'd' : e->type == 'l' ? 'l' : '-';
	for (int i = 0; i < 9; i++)
		if (e->mode & (1u << (8 - i)))
			mode[1 + i] = "rwxrwxrwx"[i];
	printf("%s %10" PRIu64 " %s", mode, e->size, e->path);
	if (e->link)
		printf(" -> %s", e->link);
	putchar('\n');
	return 0;
}

static int with_slug(struct cli *c, char **path_out)
{
	struct ledger *l = NULL;
	struct release r = RELEASE_INIT;
	char hex[65];
	int rc = cli_open_app(c, &l);
	if (rc)
		return rc;
	if (!(rc = resolve_slug(c, l, c->args[0], hex, &r))) {
		if (cas_check(c->root, hex) < 0)
			rc = cli_fail();
		else
			*path_out = cas_path(c->root, hex);
	}
	release_release(&r);
	ledger_free(l);
	return rc;
}

int cmd_slugs_contents(struct cli *c)
{
	char *path = NULL;
	int rc = with_slug(c, &path);
	if (!rc && slug_list(path, print_entry, NULL) < 0)
		rc = cli_fail();
	free(path);
	return rc;
}

int cmd_slugs_extract(struct cli *c)
{
	char *path = NULL;
	int rc = with_slug(c, &path);
	if (!rc) {
		if (slug_extract(path, c->args[1]) < 0)
			rc = cli_fail();
		else
			printf("Extracted %s into %s\n", c->args[0], c->args[1]);
	}
	free(path);
	return rc;
}
