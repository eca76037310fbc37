/*
 * fuzz_release_record.c - release_parse() on arbitrary bytes.
 *
 * Whatever it accepts must survive a round trip: formatting the parsed
 * release and parsing that again gives the same record.
 */
#include "store/release.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct release r = RELEASE_INIT, again = RELEASE_INIT;
	struct buf one = BUF_INIT, two = BUF_INIT;

	if (release_parse(&r, (const char *)data, size) == 0) {
		if (r.version < 1 || r.version > RELEASE_VERSION_MAX)
			abort();
		release_format(&r, &one);
		if (release_parse(&again, one.data, one.len) != 0)
			abort();
		release_format(&again, &two);
		if (one.len != two.len || memcmp(one.data, two.data, one.len))
			abort();
	}
	buf_release(&one);
	buf_release(&two);
	release_release(&r);
	release_release(&again);
	return 0;
}
