#define _GNU_SOURCE
#include "runtime/agent.h"

#include "runtime/router.h"
#include "util/error.h"
#include "util/json.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#ifndef SLIPWAY_VERSION
#define SLIPWAY_VERSION "unknown"
#endif

/*
 * Who the agent is, what its clock says and where its router listens
 * ("ADDRESS:PORT", ":PORT" on every address; left out when its settings
 * cannot be read), with the request answered.
 */
static int answer_hello(const char *root, const char *request, struct buf *out)
{
	struct json j = JSON_INIT(out);
	struct router_listen l;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	json_object_begin(&j, NULL);
	json_string(&j, "slipway", SLIPWAY_VERSION);
	json_int(&j, "clock_ms", (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	if (router_listen_read(root, &l) == 0) {
		char *router = xasprintf("%s:%d", l.address, l.port);
		json_string(&j, "router", router);
		free(router);
	}
	json_string(&j, "request", request);
	json_object_end(&j);
	buf_adds(out, "\n");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(const char *root, const char *request, struct buf *out);
} requests[] = {
	{ "hello", answer_hello },
	{ "ping", answer_hello },
	{ NULL, NULL },
};

int agent_answer(const char *root, const char *request, struct buf *out)
{
	if (!request)
		request = "";
	size_t n = strlen(request);
	while (n && strchr(" \t\r\n", request[n - 1]))
		n--;
	size_t skip = strspn(request, " \t");
	char *line = xstrndup(request + skip, n > skip ? n - skip : 0);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?'; /* the refusal is one line of text */
	int err = SW_EINVALID;
	for (size_t i = 0; requests[i].name && err == SW_EINVALID; i++)
		if (!strcmp(line, requests[i].name))
			err = requests[i].fn(root, line, out);
	if (err == SW_EINVALID) {
		/* the first word only: a refusal repeats nothing long of what it was sent */
		size_t w = strcspn(line, " \t");
		err = sw_error_set(SW_EINVALID,
			"the node agent does not answer '%.*s': it answers hello and ping",
			(int)(w > 64 ? 64 : w), line);
	}
	free(line);
	return err;
}
