/*
 * test_error.c - util/error.c: prefixing the current message, and saving an
 * error across cleanup that sets errors of its own (also across threads).
 */
#include "util/error.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

Test(error, prefix_puts_text_in_front_and_returns_the_code)
{
	sw_error_set(SW_ENOTFOUND, "no such thing");
	cr_assert_eq(sw_error_prefix(SW_ERROR, "cannot use '%s': ", "x"), SW_ERROR);
	cr_assert_str_eq(sw_error_last(), "cannot use 'x': no such thing");
	cr_assert_eq(sw_error_prefix(SW_EINVALID, "'.buildpacks' "), SW_EINVALID);
	cr_assert_str_eq(sw_error_last(), "'.buildpacks' cannot use 'x': no such thing");
}

Test(error, prefix_may_take_the_message_itself_as_an_argument)
{
	sw_error_set(SW_ERROR, "abc");
	sw_error_prefix(SW_ERROR, "%s/", sw_error_last());
	cr_assert_str_eq(sw_error_last(), "abc/abc");
}

Test(error, prefix_keeps_errno_and_cuts_long_messages)
{
	char big[SW_ERROR_MSG_MAX + 100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sw_error_set(SW_ERROR, "%s", big);
	errno = EACCES;
	sw_error_prefix(SW_ERROR, "p: ");
	cr_assert_eq(errno, EACCES);
	cr_assert_eq(strlen(sw_error_last()), SW_ERROR_MSG_MAX - 1);
	cr_assert(!strncmp(sw_error_last(), "p: aaa", 6));
}

Test(error, restore_brings_back_the_first_error)
{
	struct sw_error_state first;
	sw_error_set(SW_ENOTFOUND, "the cause");
	cr_assert_eq(sw_error_save(&first, SW_ENOTFOUND), SW_ENOTFOUND);
	sw_error_set(SW_ERROR, "cleanup failed too");
	cr_assert_eq(sw_error_restore(&first), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "the cause");
}

Test(error, save_keeps_the_code_it_is_given)
{
	struct sw_error_state first;
	sw_error_set(SW_ERROR, "message");
	sw_error_save(&first, SW_ETIMEOUT);
	sw_error_set(SW_ERROR, "other");
	cr_assert_eq(sw_error_restore(&first), SW_ETIMEOUT);
	cr_assert_str_eq(sw_error_last(), "message");
}

static void *fail_in_thread(void *arg)
{
	sw_error_set(SW_ECONFLICT, "lost in a worker");
	sw_error_save(arg, SW_ECONFLICT);
	return NULL;
}

Test(error, a_worker_threads_error_is_restored_by_another)
{
	struct sw_error_state st;
	pthread_t t;
	sw_error_set(SW_OK, "main thread's own");
	cr_assert_eq(pthread_create(&t, NULL, fail_in_thread, &st), 0);
	pthread_join(t, NULL);
	cr_assert_str_eq(sw_error_last(), "main thread's own");
	cr_assert_eq(sw_error_restore(&st), SW_ECONFLICT);
	cr_assert_str_eq(sw_error_last(), "lost in a worker");
}
