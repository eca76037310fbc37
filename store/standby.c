#define _GNU_SOURCE
#include "store/standby.h"

#include "store/paths.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = { "writer", "standby", "fenced" };

void standby_state_release(struct standby_state *s)
{
	free(s->name);
	s->name = NULL;
}

/* Parses "EPOCH ROLE NAME"; SW_ERROR naming file when it is not that. */
static int parse(const char *file, const char *text, struct standby_state *out)
{
	char role[16], name[512];
	long long epoch;
	if (sscanf(text, "%lld %15s %511s", &epoch, role, name) == 3 && epoch >= 0)
		for (int i = 0; i < 3; i++)
			if (!strcmp(role, role_names[i])) {
				out->epoch = epoch;
				out->role = i;
				out->name = xstrdup(name);
				return 0;
			}
	return sw_error_set(SW_ERROR, "%s is not 'EPOCH writer|standby|fenced NAME'", file);
}

int standby_read(const char *root, struct standby_state *out)
{
	char *file = paths_standby_file(root), *text = NULL;
	int err = fs_read_file(file, 4096, &text, NULL);
	if (err == SW_ENOTFOUND) {
		out->epoch = 0;
		out->role = STANDBY_WRITER;
		out->name = xstrdup("-");
		err = 0;
	} else if (!err) {
		err = parse(file, text, out);
	}
	free(text);
	free(file);
	return err;
}

int standby_write(const char *root, const struct standby_state *s)
{
	char *dir = paths_hosts_dir(root), *file = paths_standby_file(root);
	char *line = xasprintf("%lld %s %s\n", s->epoch, role_names[s->role],
			       s->name && *s->name ? s->name : "-");
	int err = fs_mkdir_p(dir, 0700);
	if (!err)
		err = fs_write_atomic(file, line, strlen(line), 0600);
	free(line);
	free(file);
	free(dir);
	return err;
}

int standby_writer_check(const char *root)
{
	struct standby_state s = STANDBY_STATE_INIT;
	int err = standby_read(root, &s);
	if (!err && s.role == STANDBY_STANDBY)
		err = sw_error_set(SW_EDENIED,
			"this server is a standby of %s, which makes the releases: push there "
			"(or make this one the writer: slipway server:promote)", s.name);
	else if (!err && s.role == STANDBY_FENCED)
		err = sw_error_set(SW_EDENIED,
			"this server was fenced: %s was promoted to the writer in its place: push "
			"there", s.name);
	standby_state_release(&s);
	return err;
}

int standby_take_mirror(const char *root, long long epoch)
{
	struct standby_state s = STANDBY_STATE_INIT;
	int err = standby_read(root, &s);
	if (err)
		goto done;
	if (s.role != STANDBY_STANDBY) {
		err = sw_error_set(SW_EDENIED, "fenced: this server is the writer since epoch %lld "
				   "and takes no mirror push", s.epoch);
	} else if (epoch < s.epoch) {
		err = sw_error_set(SW_EDENIED, "fenced: this server's epoch is %lld, the push's %lld",
				   s.epoch, epoch);
	} else if (epoch > s.epoch) {
		s.epoch = epoch;
		err = standby_write(root, &s);
	}
done:
	standby_state_release(&s);
	return err;
}
