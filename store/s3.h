/*
 * s3.h - slugs in an S3-compatible store, over libcurl's SigV4 signing.
 *
 * Part of store/: uses only util/ (and cas.h, settings.h); prints nothing.
 *
 * S3 is used when slipway.s3Endpoint is set (store/settings.h): the slug a
 * build made is uploaded before its release is recorded, run hosts fetch
 * slugs by checksum, and gc deletes what no release needs.  Objects are
 * named S3_SLUG_PREFIX + SHA256 + ".tar.zst", the local store's name; only
 * keys under that prefix are ever listed or deleted.
 *
 * Every upload carries x-amz-content-sha256 = the object's own SHA-256 (its
 * name): the store checks the bytes it got against it and refuses a
 * mismatch.  Every download goes into the local store through
 * cas_store_stream() (store/cas.h): hashed as it arrives, at most
 * slipway.maxSlugSize of it, and published only when it hashes to its name.
 *
 * A run host has no S3 settings of its own: its control sends its struct s3
 * as a flat JSON document on the node agent's stdin (s3_json_write(),
 * s3_json_read()), never on a command line.
 *
 *     struct s3 s3 = S3_INIT;
 *     err = s3_open(&s3, root);           // SW_ENOTFOUND: S3 not configured
 *     err = s3_slug_push(&s3, root, hex, &sent);
 *     err = s3_slug_fetch(&s3, root, hex, &fetched);
 *     s3_release(&s3);
 *
 * Errors are one line: "S3 endpoint 'URL' is unreachable: ...", "S3 bucket
 * 'B' does not exist", "S3 refused PUT of 'KEY': 403 SignatureDoesNotMatch:
 * ...", "slug ... from S3 is corrupt: ...".
 */
#ifndef SW_S3_H
#define SW_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/util.h"

#define S3_SLUG_PREFIX "slipway/slugs/"

struct s3 {
	char *endpoint;   /* "https://host[:port]", no trailing slash */
	char *bucket;
	char *region;     /* default us-east-1 */
	char *key_id;
	char *secret;     /* from slipway.s3SecretFile */
};
#define S3_INIT { 0 }

/*
 * Reads the S3 settings of the server: SW_ENOTFOUND (no message) when
 * slipway.s3Endpoint is unset; SW_EINVALID when it is set and the bucket,
 * key id or secret file is missing, or the secret file is readable by
 * others than its owner.
 */
int s3_open(struct s3 *s3, const char *root);

/* Frees the strings (and wipes the secret). */
void s3_release(struct s3 *s3);

/*
 * The settings, secret included, as one flat JSON document
 * {"endpoint":..,"bucket":..,"region":..,"key_id":..,"secret":..}
 * appended to out: wipe it once sent.
 */
void s3_json_write(const struct s3 *s3, struct buf *out);

/*
 * Reads s3_json_write()'s document into s3 (released on failure):
 * SW_EINVALID when it is not one, a member is missing or empty, or the
 * endpoint is not an http:// or https:// URL.
 */
int s3_json_read(struct s3 *s3, const char *text);

/* The key of a slug: S3_SLUG_PREFIX "<hex>.tar.zst" (malloc'ed). */
char *s3_slug_key(const char *hex);

/* Uploads the file at path as key, its SHA-256 (64 hex) sent for the store to verify. */
int s3_put_file(const struct s3 *s3, const char *key, const char *path, const char *sha256);

/*
 * Downloads key, handing its bytes to sink as they arrive (cas_sink_write()
 * fits); an error from sink stops the download and is returned.
 * SW_ENOTFOUND if there is no such object.
 */
int s3_get(const struct s3 *s3, const char *key,
	   int (*sink)(void *ctx, const void *data, size_t len), void *ctx);

/* 0 if key exists (size_out may be NULL), SW_ENOTFOUND if not. */
int s3_head(const struct s3 *s3, const char *key, uint64_t *size_out);

/* Deletes key (deleting a missing key is not an error, as in S3). */
int s3_delete(const struct s3 *s3, const char *key);

/*
 * Calls fn for every key under prefix, with its size and last-modified
 * time; pages through long listings.  Non-zero from fn stops and is returned.
 */
int s3_list(const struct s3 *s3, const char *prefix,
	    int (*fn)(const char *key, uint64_t size, time_t mtime, void *ctx), void *ctx);

/*
 * Uploads the local store's slug hex unless the bucket has it already
 * (HEAD, same size): *sent (may be NULL) says whether it was sent.
 */
int s3_slug_push(const struct s3 *s3, const char *root, const char *hex, int *sent);

/*
 * Downloads slug hex into the local store (nothing to do when it is there
 * already; *fetched, may be NULL, says which), verifying its SHA-256 before
 * publishing it: SW_EINVALID and nothing published when the bytes do not
 * hash to hex ("slug 3f2a... from S3 is corrupt: ...") or are more than
 * root's slipway.maxSlugSize, SW_ENOTFOUND when the bucket has no such slug.
 */
int s3_slug_fetch(const struct s3 *s3, const char *root, const char *hex, int *fetched);

#endif
