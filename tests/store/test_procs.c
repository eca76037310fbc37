#include "store/procs.h"

#include <criterion/criterion.h>
#include <string.h>

static struct proc_list list = PROC_LIST_INIT;

static void teardown(void)
{
	proc_list_release(&list);
}

TestSuite(procs, .fini = teardown);

static void assert_type(size_t i, const char *name, const char *command)
{
	cr_assert_lt(i, list.n);
	cr_assert_str_eq(list.items[i].name, name);
	cr_assert_str_eq(list.items[i].command, command);
}

Test(procs, valid_name_function)
{
	cr_assert(proc_name_valid("web"));
	cr_assert(proc_name_valid("a"));
	cr_assert(proc_name_valid("Worker_2-b"));
	cr_assert_not(proc_name_valid(""));
	cr_assert_not(proc_name_valid("we b"));
	cr_assert_not(proc_name_valid("a/b"));
	cr_assert_not(proc_name_valid("web:"));
	cr_assert_not(proc_name_valid("caf\xc3\xa9"));
	cr_assert_not(proc_name_valid(NULL));
	cr_assert(proc_name_valid("012345678901234567890123456789012345678901234567890123456789012"));
	cr_assert_not(proc_name_valid("0123456789012345678901234567890123456789012345678901234567890123"));
}

Test(procs, set_replaces_or_appends_keeping_order)
{
	proc_list_set(&list, "web", "one");
	proc_list_set(&list, "worker", "two");
	proc_list_set(&list, "clock", "three");
	proc_list_set(&list, "worker", "TWO");
	cr_assert_eq(list.n, 3);
	assert_type(0, "web", "one");
	assert_type(1, "worker", "TWO");
	assert_type(2, "clock", "three");
	proc_list_set(&list, "release", "four");
	cr_assert_eq(list.n, 4);
	assert_type(3, "release", "four");
}

Test(procs, set_copies_its_arguments)
{
	char name[] = "web", command[] = "run";

	proc_list_set(&list, name, command);
	name[0] = 'X';
	command[0] = 'X';
	cr_assert_str_eq(proc_list_get(&list, "web"), "run");
}
