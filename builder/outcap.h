/*
 * outcap.h - a bound on a build's output: its head and its tail are kept,
 * the middle is cut.
 *
 * Part of builder/: uses only util/; prints nothing.
 *
 * Of a cap of max bytes, the first max/2 bytes pass at once; after them,
 * bytes are held in a ring of the last max/2 bytes, older ones dropped and
 * counted.  At the end the held tail is handed back, starting at a line
 * (a partly dropped line counts as cut), with how much was cut.
 *
 *     struct outcap c = OUTCAP_INIT;
 *     outcap_init(&c, 4 << 20);
 *     size_t now = outcap_take(&c, buf, n);   // write buf[0..now); the rest is held
 *     ...
 *     const char *tail; size_t len;
 *     outcap_finish(&c, &tail, &len);         // c.cut_bytes, c.cut_lines: what was cut
 *     outcap_release(&c);
 */
#ifndef SW_OUTCAP_H
#define SW_OUTCAP_H

#include <stddef.h>
#include <stdint.h>

struct outcap {
	uint64_t head_max;   /* bytes that pass at once; 0 with no cap */
	uint64_t passed;     /* bytes passed so far */
	int holding;         /* the head is full: bytes go to the ring */
	char *ring;          /* the tail, the last tail_max bytes held */
	size_t tail_max, len, start;
	uint64_t cut_bytes;  /* dropped from the middle */
	uint64_t cut_lines;  /* newlines among them */
};
#define OUTCAP_INIT { 0 }

/* Sets the cap to max bytes (0: none, everything passes). */
void outcap_init(struct outcap *c, uint64_t max);

/*
 * Of the n bytes of buf, how many pass now (all or none: a chunk is not
 * split); the rest is held for the tail.
 */
size_t outcap_take(struct outcap *c, const char *buf, size_t n);

/*
 * The tail held back (*tail, len bytes, valid until outcap_release),
 * from the first whole line after a cut.  cut_bytes and cut_lines then
 * say what was cut: 0 when everything was passed or held.
 */
void outcap_finish(struct outcap *c, const char **tail, size_t *len);

void outcap_release(struct outcap *c);

#endif
