/*
 * The local host (runtime/host.h): this machine, whose s6 tree supervises
 * each instance as a service of the root's scan directory
 * (runtime/services.h), reached through loopback.  Each operation is
 * today's runtime code, unchanged.
 */
#define _GNU_SOURCE
#include "runtime/host.h"

#include "runtime/logs.h"
#include "runtime/oneoff.h"
#include "runtime/router.h"
#include "runtime/services.h"

#include <stdlib.h>

static int local_start(const struct host *h, const char *app, const struct release *r,
		       const struct strvec *instances, struct strvec *started, char **why)
{
	return services_start(h->root, app, r, instances, started, why);
}

static int local_restart(const struct host *h, const char *app, const struct release *r,
			 const char *which, struct strvec *started, struct strvec *old, char **why)
{
	return services_restart(h->root, app, r, which, started, old, why);
}

/*
 * Web instances stop once the router's workers of an earlier configuration
 * are done with the requests they still carry to them (runtime/router.h):
 * a switch returns as soon as those workers take no new ones.
 */
static void local_retire(const struct host *h, const char *app, const struct strvec *names,
			 const struct strvec *keep)
{
	struct strvec gone = STRVEC_INIT;
	if (!names)
		services_of_app_but(h->root, app, keep, &gone);
	const struct strvec *which = names ? names : &gone;
	if (which->n && services_any_web(app, which))
		router_drain(h->root);
	if (which->n)
		services_retire_names(h->root, which);
	strvec_clear(&gone);
}

static int local_list(const struct host *h, const char *app, struct service_info **out,
		      size_t *n)
{
	return services_list(h->root, app, out, n);
}

static int local_web(const struct host *h, const char *app, const struct strvec *names,
		     struct strvec *labels, struct strvec *addresses)
{
	int *ports = NULL;
	int err = services_web_ports(h->root, app, names, labels, &ports);
	for (size_t i = 0; !err && i < labels->n; i++) {
		char address[SERVICES_ADDRESS_MAX];
		services_address_of(ports[i], address);
		strvec_push(addresses, address);
	}
	free(ports);
	return err;
}

static int local_address(const struct host *h, const char *app, const char *name,
			 char out[HOST_ADDRESS_MAX])
{
	return services_address(h->root, app, name, out);
}

static int local_serves(const struct host *h, const char *app, const char *name)
{
	return services_serves(h->root, app, name);
}

static int local_logs(const struct host *h, const char *app, const struct logs_filter *f,
		      size_t n, int follow, FILE *out, int (*stop)(void *), void *arg)
{
	return logs_show(h->root, app, f, n, follow, out, stop, arg);
}

static int local_run(const struct host *h, const struct oneoff_opts *o, int *status)
{
	(void)h; /* o->root is h->root */
	return oneoff_run(o, status);
}

const struct host_ops host_local_ops = {
	.name = "local",
	.start = local_start,
	.restart = local_restart,
	.retire = local_retire,
	.list = local_list,
	.web = local_web,
	.address = local_address,
	.serves = local_serves,
	.logs = local_logs,
	.run = local_run,
};
