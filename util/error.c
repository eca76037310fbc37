#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[SW_ERROR_MSG_MAX];

static int set_v(int code, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	int n = vsnprintf(last_msg, sizeof(last_msg), fmt, ap);

	if (with_errno && n >= 0 && (size_t)n < sizeof(last_msg))
		snprintf(last_msg + n, sizeof(last_msg) - (size_t)n, ": %s",
			 strerror(saved));
	errno = saved;
	return code;
}

int sw_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_v(code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int sw_error_errno(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_v(code, 1, fmt, ap);
	va_end(ap);
	return code;
}

const char *sw_error_last(void)
{
	return last_msg[0] ? last_msg : "unknown error";
}

int sw_error_prefix(int code, const char *fmt, ...)
{
	/* formatted apart: an argument may point into last_msg */
	char out[sizeof(last_msg)];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	if (n < 0)
		out[n = 0] = '\0';
	if ((size_t)n < sizeof(out))
		snprintf(out + n, sizeof(out) - (size_t)n, "%s", sw_error_last());
	memcpy(last_msg, out, strlen(out) + 1);
	errno = saved;
	return code;
}

int sw_error_save(struct sw_error_state *st, int code)
{
	st->code = code;
	memcpy(st->msg, last_msg, sizeof(st->msg));
	return code;
}

int sw_error_restore(const struct sw_error_state *st)
{
	memcpy(last_msg, st->msg, sizeof(last_msg));
	last_msg[sizeof(last_msg) - 1] = '\0';
	return st->code;
}
