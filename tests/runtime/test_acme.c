/*
 * runtime/acme: which of an app's names a CA is asked for, and when a
 * certificate is due for renewal (90-, 45- and 6-day ones alike).
 */
#include "runtime/acme.h"

#include <criterion/criterion.h>

Test(acme, localhost_names_are_never_asked_for)
{
	struct strvec hosts = STRVEC_INIT, names = STRVEC_INIT;
	strvec_push(&hosts, "shop.localhost");
	strvec_push(&hosts, "www.example.com");
	strvec_push(&hosts, "localhost");
	strvec_push(&hosts, "notlocalhost.com");
	acme_names(&hosts, &names);
	cr_assert_eq(names.n, 2);
	cr_assert_str_eq(names.v[0], "www.example.com");
	cr_assert_str_eq(names.v[1], "notlocalhost.com");
	strvec_clear(&hosts);
	strvec_clear(&names);
}

Test(acme, a_certificate_is_due_when_a_third_of_its_lifetime_is_left)
{
	const time_t day = 86400, t0 = 1700000000;
	/* 90 days: due from day 60; 45: from day 30; 6: from day 4 */
	const int lifetimes[] = { 90, 45, 6 };
	for (size_t i = 0; i < 3; i++) {
		time_t end = t0 + lifetimes[i] * day, due = t0 + lifetimes[i] * day * 2 / 3;
		cr_assert_eq(acme_due(t0, end, t0), 0);
		cr_assert_eq(acme_due(t0, end, due - 1), 0, "%d days", lifetimes[i]);
		cr_assert_eq(acme_due(t0, end, due), 1, "%d days", lifetimes[i]);
		cr_assert_eq(acme_due(t0, end, end + day), 1);
	}
}
