/*
 * fuzz_release_yaml.c - buildpack_parse_release() (bin/release YAML) on
 * arbitrary bytes: no crash, no leak, and on failure procs and vars are
 * left as they were.
 */
#include "builder/buildpack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_list procs = PROC_LIST_INIT;
	struct config vars = CONFIG_INIT;

	proc_list_set(&procs, "pre", "existing");
	config_set(&vars, "PRE", "existing");
	int err = buildpack_parse_release((const char *)data, size, &procs, &vars);
	if (err && (procs.n != 1 || vars.n != 1))
		abort();
	for (size_t i = 0; i < procs.n; i++)
		if (!proc_name_valid(procs.items[i].name))
			abort();
	for (size_t i = 0; i < vars.n; i++)
		if (!config_key_valid(vars.items[i].key) ||
		    strlen(vars.items[i].value) > CONFIG_VALUE_MAX)
			abort();
	proc_list_release(&procs);
	config_release(&vars);
	return 0;
}
