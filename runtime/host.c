#define _GNU_SOURCE
#include "runtime/host.h"

#include "util/error.h"

#include <stdlib.h>

struct host host_of(const char *root, const char *app)
{
	(void)app; /* every app runs here, for now */
	return (struct host){ .ops = &host_local_ops, .root = root };
}

int host_start(const char *root, const char *app, const struct release *r,
	       const struct strvec *instances, struct strvec *started, char **why)
{
	struct host h = host_of(root, app);
	return h.ops->start(&h, app, r, instances, started, why);
}

int host_restart(const char *root, const char *app, const struct release *r, const char *which,
		 struct strvec *started, struct strvec *old, char **why)
{
	struct host h = host_of(root, app);
	return h.ops->restart(&h, app, r, which, started, old, why);
}

void host_retire(const char *root, const char *app, const struct strvec *names,
		 const struct strvec *keep)
{
	struct host h = host_of(root, app);
	h.ops->retire(&h, app, names, keep);
}

int host_list(const char *root, const char *app, struct service_info **out, size_t *n)
{
	struct host h = host_of(root, app);
	return h.ops->list(&h, app, out, n);
}

int host_web(const char *root, const char *app, const struct strvec *names,
	     struct strvec *labels, struct strvec *addresses)
{
	struct host h = host_of(root, app);
	return h.ops->web(&h, app, names, labels, addresses);
}

int host_address(const char *root, const char *app, const char *name,
		 char out[HOST_ADDRESS_MAX])
{
	struct host h = host_of(root, app);
	return h.ops->address(&h, app, name, out);
}

int host_serves(const char *root, const char *app, const char *name)
{
	struct host h = host_of(root, app);
	return h.ops->serves(&h, app, name);
}

int host_check(const char *root, const char *app, const char *name, const char *label,
	       const struct healthchecks *hc, const char *host_header, char **why)
{
	char address[HOST_ADDRESS_MAX];
	int err = host_address(root, app, name, address);
	*why = NULL;
	/* the checks go from here to where the instance runs, whichever host that is */
	return err ? err : healthchecks_run(hc, label, address, host_header, why);
}

int host_logs(const char *root, const char *app, const struct logs_filter *f, size_t n,
	      int follow, FILE *out, int (*stop)(void *), void *arg)
{
	struct host h = host_of(root, app);
	return h.ops->logs(&h, app, f, n, follow, out, stop, arg);
}

int host_run(const struct oneoff_opts *o, int *status)
{
	struct host h = host_of(o->root, o->app);
	return h.ops->run(&h, o, status);
}
