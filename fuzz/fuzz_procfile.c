/*
 * fuzz_procfile.c - procfile_parse() on arbitrary bytes.
 *
 * Checks beyond "no crash": a refused Procfile leaves the list as it was,
 * an accepted one only holds valid names with non-empty commands.
 */
#include "builder/procfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_list l = PROC_LIST_INIT;

	/* one entry already there: a failed parse must keep it, a good one appends */
	proc_list_set(&l, "pre", "existing");
	int err = procfile_parse(&l, (const char *)data, size);
	if (strcmp(l.items[0].name, "pre") || strcmp(l.items[0].command, "existing"))
		abort();
	if (err && l.n != 1)
		abort();
	for (size_t i = 1; i < l.n; i++)
		if (!proc_name_valid(l.items[i].name) || !*l.items[i].command)
			abort();
	proc_list_release(&l);
	return 0;
}
