/*
 * units.h - durations and sizes as people write them.
 *
 * Part of util/: includes nothing outside util/; prints nothing.
 *
 *     int s;      units_parse_seconds("15m", &s);         // 900
 *     uint64_t b; units_parse_size("500M", &b);           // 524288000
 *     char buf[32]; units_format_size(b, buf, sizeof(buf)); // "500M"
 */
#ifndef SW_UNITS_H
#define SW_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * "90", "90s", "15m", "2h" -> seconds, 1 second to 7 days; SW_EINVALID
 * (message quoting s) otherwise, *out untouched.
 */
int units_parse_seconds(const char *s, int *out);

/*
 * "1048576", "512K", "500M", "2G" -> bytes (powers of 1024, suffix in
 * either case, at least 1); SW_EINVALID otherwise, *out untouched.
 */
int units_parse_size(const char *s, uint64_t *out);

/*
 * A byte count as people write it, into buf: "1000B" below 1 KiB, else in
 * the largest unit of K, M, G, T that keeps the number at or above 1:
 * whole when exact ("500M"), else with one decimal ("502.5M").
 */
void units_format_size(uint64_t bytes, char *buf, size_t len);

#endif
