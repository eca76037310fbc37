#define ARLIB_IMPLEMENTATION
#include "store/arlib.h"

#include "util/error.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct arlib arlib;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char failure[512];

static void load(void)
{
	void *h = dlopen(ARLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	void *sym;

	if (!h) {
		snprintf(failure, sizeof(failure), "cannot load %s: %s", ARLIB_SONAME, dlerror());
		return;
	}
#define ARLIB_RESOLVE(f)                                                                  \
	if (!(sym = dlsym(h, #f))) {                                                      \
		snprintf(failure, sizeof(failure), "%s has no %s", ARLIB_SONAME, #f);      \
		return;                                                                   \
	}                                                                                 \
	*(void **)&arlib.f = sym;
	ARLIB_FUNCS(ARLIB_RESOLVE)
#undef ARLIB_RESOLVE
	loaded = 1;
}

int arlib_load(void)
{
	pthread_once(&once, load);
	return loaded ? 0 : sw_error_set(SW_ERROR, "%s", failure);
}
