/* SPDX-License-Identifier: Apache-2.0 */
/* Store internals shared by the image module's files (not for other
 * modules: they use engine/image/image.h).
 *
 * Layout under the root ($BERTH_ROOT, default /var/lib/berth):
 *   lock                   flock'd exclusively by every writer
 *   images.json            the image index (images by ID, references → ID),
 *                          replaced atomically
 *   blobs/sha256/<hex>     content-addressed blobs, verified as written
 *   layers/<hex>/          unpacked layer trees named by ChainID (overlay
 *                          lowerdirs), layers/<hex>.json their metadata
 *   tmp/                   staging: temp files and unfinished layers, wiped
 *                          by the next writer; a pull stages in its own
 *                          tmp/pull-XXXXXX/, flock'd while it lives, which
 *                          is wiped only once its owner is gone; a build
 *                          makes its directories in tmp/build-XXXXXX/ the
 *                          same way, with a "pins" file naming the blobs
 *                          and layers it made that the garbage collection
 *                          keeps while the build lives
 *   partial/sha256-<hex>   the bytes received so far of a blob being pulled
 *                          (kept when a pull is interrupted, so the next one
 *                          resumes), with sha256-<hex>.lock, flock'd by the
 *                          one process fetching that blob; the next writer
 *                          removes partials untouched for PARTIAL_MAX_AGE_S
 *   containers/<id>/image-id   written by the runtime, read here */
#ifndef BERTH_ENGINE_IMAGE_STORE_H
#define BERTH_ENGINE_IMAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/events/event.h"
#include "engine/image/digest.h"
#include "engine/image/image.h"
#include "util/err.h"

struct store {
    char *root;
    int rootfd;
    int blobsfd;     /* blobs/sha256 */
    int layersfd;    /* layers */
    int tmpfd;       /* where this process stages: tmp, or its pull's tmp/pull-XXXXXX */
    int tmptopfd;    /* tmp */
    int partialfd;   /* partial */
    char *stagename; /* pull-XXXXXX while staging there, else NULL */
    int lockfd;
    bool locked;
    /* Where the store's warnings go (an entry of a layer skipped); the
     * opener sets it, zero drops them. */
    struct ev_sink sink;
};

/* Takes the writer lock (blocking) and removes stale staging left by killed
 * writers. */
int store_lock(struct store *s, struct berr *e);
void store_unlock(struct store *s);

/* A pull's own staging: tmp/pull-XXXXXX, flock'd while this process lives,
 * becomes where blob writers and layer directories are made (tmpfd), so
 * that the store's writer lock need not be held while layers download:
 * another writer's clean-up skips it. store_stage_end removes it and makes
 * tmp/ the staging again. */
int store_stage_begin(struct store *s, struct berr *e);
void store_stage_end(struct store *s);

/* Partial blobs (a pull's downloads, kept across interruptions). */
#define PARTIAL_MAX_AGE_S (24 * 3600)
/* Takes the blob's fetch lock without blocking: 0 with *lockfd -1 when
 * another process holds it, 1 with *lockfd set (release: close it). */
int store_partial_lock(struct store *s, const char *digest, int *lockfd, struct berr *e);
/* Opens (creating) the blob's partial file, read-write; *have its size. */
int store_partial_open(struct store *s, const char *digest, uint64_t *have, struct berr *e);
/* The finished, verified partial file fd becomes the blob (synced first). */
int store_partial_commit(struct store *s, const char *digest, int fd, struct berr *e);
void store_partial_remove(struct store *s, const char *digest);
/* Lets the fetch lock go; its file goes too when no partial is left. */
void store_partial_unlock(struct store *s, const char *digest, int lockfd);

/* Blobs */
bool store_blob_exists(struct store *s, const char *digest);
int store_blob_open(struct store *s, const char *digest, struct berr *e);
int store_blob_read(struct store *s, const char *digest, size_t max, char **out, size_t *len,
                    struct berr *e);
int store_blob_remove(struct store *s, const char *digest, struct berr *e);

/* A blob being written to tmp/, hashed on the way. */
struct blob_writer {
    struct store *s;
    int fd;
    char *tmpname;
    int dirfd; /* where the temp file is: tmpfd, or blob_writer_open_in's */
    struct sha256 *h;
    uint64_t size;
    char digest[DIGEST_STR_SIZE]; /* set by blob_writer_finish */
    bool finished;
};

int blob_writer_open(struct store *s, struct blob_writer **out, struct berr *e);
/* A blob writer whose temp file is in dirfd (on the store's file system),
 * which must outlive it: a build's scratch directory, which no other
 * writer's clean-up touches. */
int blob_writer_open_in(struct store *s, int dirfd, struct blob_writer **out, struct berr *e);
/* fsyncs and computes the digest (w->digest, w->size). */
int blob_writer_finish(struct blob_writer *w, struct berr *e);
/* Verifies against expected (digest, and size when >= 0; NULL digest
 * accepts the computed one) and renames into the store. *created tells
 * whether the blob is new (may be NULL). The writer's temp file is gone
 * afterwards either way. */
int blob_writer_commit(struct blob_writer *w, const char *expected, int64_t expected_size,
                       bool *created, struct berr *e);
/* Removes the temp file if still there and frees. NULL-safe. */
void blob_writer_free(struct blob_writer *w);
/* Whole-buffer convenience: put buf, verified against expected (or not when
 * NULL); the digest is written to out. */
int store_blob_put(struct store *s, const void *buf, size_t len, const char *expected,
                   char out[DIGEST_STR_SIZE], bool *created, struct berr *e);

/* Detaches the finished temp file from the writer (it is not removed when
 * the writer is freed); *tmpname receives its name in tmp/. */
void blob_writer_detach(struct blob_writer *w, char **tmpname);
/* Moves tmp/<tmpname>, whose digest was computed while it was written, into
 * the store (or drops it when the blob is there already). */
int store_blob_adopt(struct store *s, const char *tmpname, const char *digest, bool *created,
                     struct berr *e);

static inline void cleanup_blob_writerp(struct blob_writer **w)
{
    blob_writer_free(*w);
}
#define _cleanup_blob_writer_ __attribute__((cleanup(cleanup_blob_writerp)))

/* Layers, named by ChainID ("sha256:<hex>"). */
bool store_layer_exists(struct store *s, const char *chainid);
char *store_layer_path(const struct store *s, const char *chainid);
/* Creates an empty temp directory for an unfinished layer under tmp/.
 * *name is relative to tmpfd, *fd an O_DIRECTORY fd of it. */
int store_layer_tmpdir(struct store *s, char **name, int *fd, struct berr *e);
/* Syncs the tree and renames it into layers/<hex> (metadata first). */
int store_layer_commit(struct store *s, const char *tmpname, int tmpdirfd, const char *chainid,
                       const char *diffid, int64_t size, struct berr *e);
/* store_layer_commit for the directory tmpname in parentfd (on the
 * store's file system) rather than in tmp/. */
int store_layer_commit_at(struct store *s, int parentfd, const char *tmpname, int tmpdirfd,
                          const char *chainid, const char *diffid, int64_t size, struct berr *e);
int64_t store_layer_size(struct store *s, const char *chainid);
int store_layer_remove(struct store *s, const char *chainid, struct berr *e);

/* Keeps blob and layer chainid from garbage collection while the build
 * scratch directory (image_scratch_begin) holding path lives, so that a
 * build's layers survive until its image is committed. Nothing when path
 * is not in one. */
void store_pin(struct store *s, const char *path, const char *blob, const char *chainid);

/* ChainID of (parent, diffid); parent NULL for the bottom layer. */
void chain_id(const char *parent, const char *diffid, char out[DIGEST_STR_SIZE]);

/* images.json: {"images": {id: {...}}, "refs": {ref: id}}. Absent → empty. */
int store_index_load(struct store *s, json_t **out, struct berr *e);
/* Parses index text and checks every value's type and every digest's form
 * (store_index_load's check). On failure, where describes the first fault
 * and nothing is returned. */
int store_index_parse(const char *buf, size_t len, json_t **out, char *where, size_t wlen);
int store_index_save(struct store *s, json_t *idx, struct berr *e);
/* The index's entries, as a load, a repair and a build's commit write
 * them: one layer of an image; an image (layers taken), its size the sum
 * of its layers' unpacked sizes, loaded now. */
json_t *index_layer_new(const char *digest, int64_t size, const char *media_type,
                        const char *diff_id, const char *chain_id, int64_t unpacked);
json_t *index_image_new(const char *manifest, int64_t config_size, const char *created,
                        json_t *layers);
/* Records in idx that refs (normalized) were pulled now, the registry
 * answering digest (the document fetched by reference; may be NULL). */
void index_mark_pulled(json_t *idx, char *const *refs, const char *digest);

/* The ID of the image ref_or_id names in idx (heap), as store_image_get
 * finds it; -ENOENT naming it when absent. */
int store_image_resolve(json_t *idx, const char *ref_or_id, char **id, struct berr *e);

/* Removes every blob and layer that no image in idx references. Deleted
 * layer ChainIDs are appended to *deleted when not NULL. */
int store_gc(struct store *s, json_t *idx, char ***deleted, struct berr *e);

/* IDs of containers (under root/containers) that use image id; NULL-terminated. */
char **store_containers_using(struct store *s, const char *id);

/* Byte budget for one layer's uncompressed stream: BERTH_MAX_LAYER_BYTES, or
 * 8 × compressed + 1 GiB. */
int layer_byte_budget(uint64_t compressed, uint64_t *out, struct berr *e);

#endif
