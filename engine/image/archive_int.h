/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of `load` and a pull's import shared by archive.c (staging,
 * planning, commit) and pullstream.c (layers downloaded and unpacked at
 * once); not for other files. */
#ifndef BERTH_ENGINE_IMAGE_ARCHIVE_INT_H
#define BERTH_ENGINE_IMAGE_ARCHIVE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/image/digest.h"
#include "engine/image/image.h"
#include "util/err.h"

struct platform;
struct pull;
struct pull_ujob;

struct member {
    char *name;    /* cleaned path inside the archive */
    char *link;    /* cleaned target for a symlink or hard link, else NULL */
    char *tmpname; /* staged file in tmp/, NULL once adopted */
    char digest[DIGEST_STR_SIZE];
    int64_t size;
    bool remote; /* a pull's layer blob neither in the store nor staged:
                  * pull_layers streams it */
};

struct plan_layer {
    struct member *blob;
    const char *path; /* the member's name, for messages */
    char digest[DIGEST_STR_SIZE];
    char *media_type;
    char diffid[DIGEST_STR_SIZE];
    char chain[DIGEST_STR_SIZE];
    int64_t size;
    int64_t unpacked;
    bool present;         /* a pull found the layer in the store */
    struct pull_ujob *uj; /* a pull's unpack of it (pullstream.c) */
};

struct plan {
    struct member *config;
    char *manifest; /* manifest document (OCI: the staged one) */
    size_t manifest_len;
    struct member *manifest_member; /* OCI only */
    char manifest_digest[DIGEST_STR_SIZE];
    struct plan_layer *layers;
    size_t n_layers;
    char **refs; /* normalized */
    char *created;
};

struct load {
    struct store *s;
    const char *src; /* file name or "stdin", for messages */
    /* Each member allocated on its own: plans point at them while a pull
     * adds more. */
    struct member **m;
    size_t n;
    json_t *by_name; /* name → index into m */
    struct plan *plans;
    size_t n_plans;
    bool kill_after_layer;
    /* A pull: blobs missing from the load come from here. */
    const struct image_fetcher *fetch;
    struct image_pull_stats *stats;
    struct pull *pull; /* the streamed layers of a pull (pullstream.c) */
    /* A pull for a platform asked for (NULL: this host's, unchecked). */
    const struct platform *want;
};

/* pullstream.c: downloads the remote layer blobs of l's plans, several at
 * once, each unpacked into staging while it arrives (the store's writer
 * lock is not held); layers the store has are skipped. */
int pull_layers(struct load *l, struct berr *e);
/* Takes the fetch lock of a blob planning fetches itself (the config),
 * waiting while another process holds it; held until pull_free. 1: the
 * caller fetches it; 0: the store has it (now). */
int pull_lock_blob(struct load *l, const char *digest, struct berr *e);
/* Commits a layer pull_layers handled (under the writer lock). */
int pull_commit_layer(struct load *l, struct plan_layer *pl, struct berr *e);
/* Releases the blob locks, files and staging of pull_layers. NULL-safe. */
void pull_free(struct pull *pu);

#endif
