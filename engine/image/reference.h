/* SPDX-License-Identifier: Apache-2.0 */
/* Docker image references: parsing with docker's grammar
 * (distribution/reference), normalization ("busybox" →
 * "docker.io/library/busybox:latest") and the familiar form for display. */
#ifndef BERTH_ENGINE_IMAGE_REFERENCE_H
#define BERTH_ENGINE_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "util/err.h"

struct imgref {
    char *domain; /* "docker.io", "registry:5000", ... */
    char *path;   /* "library/busybox" */
    char *tag;    /* "latest"; NULL when only a digest was given */
    char *digest; /* "sha256:..."; NULL when absent */
};

/* Parses and normalizes s. A missing tag (and no digest) becomes "latest".
 * Errors name the reference: invalid reference format "Foo": ... */
int ref_parse(const char *s, struct imgref *out, struct berr *e);
void ref_free(struct imgref *r);

/* Heap strings. */
char *ref_name(const struct imgref *r);          /* docker.io/library/busybox */
char *ref_string(const struct imgref *r);        /* docker.io/library/busybox:latest */
char *ref_familiar_name(const struct imgref *r); /* busybox */
char *ref_familiar(const struct imgref *r);      /* busybox:latest */

/* The familiar form of a normalized reference string, or a copy of it when
 * it does not parse. */
char *ref_familiarize(const char *normalized);

/* Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool ref_tag_is_valid(const char *tag);

static inline void cleanup_imgrefp(struct imgref *r)
{
    ref_free(r);
}
#define _cleanup_imgref_ __attribute__((cleanup(cleanup_imgrefp)))

#endif
