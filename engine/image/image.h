/* SPDX-License-Identifier: Apache-2.0 */
/* The image module's only door: the content store under $BERTH_ROOT, image
 * lookup by reference or ID, `load` of docker-archive and OCI-layout tars,
 * listing and removal. */
#ifndef BERTH_ENGINE_IMAGE_H
#define BERTH_ENGINE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/events/event.h"
#include "engine/image/digest.h"
#include "util/err.h"
#include "util/platform.h"

struct store;

/* Opens (creating if needed) the store rooted at root, e.g. /var/lib/berth.
 * Removes leftovers of killed operations (temp files, unfinished layers). */
int store_open(const char *root, struct store **out, struct berr *e);
void store_close(struct store *s);
/* Where the store's warnings go (an entry of a layer skipped): copied. */
void store_set_sink(struct store *s, const struct ev_sink *sink);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, store_close)
#define _cleanup_store_ _cleanup_(store_closep)
/* Opens an existing store for reading only (listing, lookup): nothing is
 * created or cleaned up, no lock is taken, so a read-only or foreign store
 * can be read. -ENOENT when it has not been made yet. */
int store_open_readonly(const char *root, struct store **out, struct berr *e);
const char *store_root(const struct store *s);

/* A resolved image: everything the runtime needs, nothing of the store's
 * internals. Arrays are NULL-terminated. */
struct image {
    char *ref;             /* normalized, e.g. "docker.io/library/busybox:latest" */
    char *familiar;        /* as users write it, e.g. "busybox:latest" */
    char *id;              /* config digest, "sha256:<64 hex>" */
    char *manifest_digest; /* "sha256:..." */
    char **layer_dirs;     /* absolute paths of unpacked layer trees, bottom first */
    size_t n_layers;
    char *created; /* RFC 3339 from the config, or NULL */
    int64_t size;  /* sum of unpacked layer sizes in bytes */
    /* The config's platform, normalized; os and arch "" when it names none. */
    struct platform platform;
    /* From the image config ("config" object). NULL when absent. */
    char **entrypoint;
    char **cmd;
    char **env;
    char *working_dir;
    char *user;
    char *stop_signal;
    /* HEALTHCHECK: test NULL when the image has none; ["NONE"] disables.
     * Durations in nanoseconds, 0 = not set (Docker's defaults apply). */
    char **health_test;
    int64_t health_interval_ns, health_timeout_ns, health_start_period_ns, health_start_interval_ns;
    int health_retries;
    /* VOLUME paths as the config declares them (sorted), NULL when none. */
    char **volumes;
};

/* Looks up by reference ("busybox", "busybox:1.36", "docker.io/library/x:y",
 * "name@sha256:...") or by full or short image ID. -ENOENT with a message
 * naming the reference when absent. */
int store_image_get(struct store *s, const char *ref_or_id, struct image **out, struct berr *e);
void image_free(struct image *img);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image *, image_free)
#define _cleanup_image_ _cleanup_(image_freep)

/* All tagged images, sorted by reference. */
int store_image_list(struct store *s, struct image ***out, size_t *n, struct berr *e);
void image_list_free(struct image **list, size_t n);

/* Like store_image_list; with include_untagged, images without a reference
 * are listed too (ref and familiar NULL). Tagged first, by reference. */
int store_image_list_all(struct store *s, bool include_untagged, struct image ***out, size_t *n,
                         struct berr *e);

/* Removes a tag (or, given an ID, every tag of that image), then removes the
 * blobs and layers no image and no container needs any more. Refuses when a
 * container still uses the image (see store_container_uses). The removed
 * references are returned in *untagged (may be NULL). */
int store_image_remove(struct store *s, const char *ref_or_id, char ***untagged, struct berr *e);

/* store_image_remove with docker's -f: an image referenced by several
 * repositories loses all its tags; an image a container uses is untagged
 * but kept (its layers stay under the container). The removed image ID and
 * the ChainIDs of removed layers are appended to *deleted (may be NULL). */
int store_image_remove_ex(struct store *s, const char *ref_or_id, bool force, char ***untagged,
                          char ***deleted, struct berr *e);

/* The image as `docker image inspect` shows it (one element of its array):
 * Id, RepoTags, RepoDigests, Created, Config, Architecture, Os, Size,
 * GraphDriver, RootFS, Metadata... -ENOENT when ref_or_id names none. */
int store_image_inspect(struct store *s, const char *ref_or_id, json_t **out, struct berr *e);

/* Makes target (normalized as docker: "app" is docker.io/library/app:latest)
 * name the image source names, as `docker image tag`. A target with a digest
 * or of invalid form is refused. *tagged (may be NULL) receives the
 * normalized target. */
int store_image_tag(struct store *s, const char *source, const char *target, char **tagged,
                    struct berr *e);

/* `image prune`: removes the images no reference names (with all, every
 * image), except those a container uses, then the blobs and layers no image
 * needs any more. Removed references go to *untagged, removed image IDs
 * and layer ChainIDs to *deleted (each may be NULL); *reclaimed (may be
 * NULL) receives the bytes freed. */
int store_image_prune(struct store *s, bool all, char ***untagged, char ***deleted,
                      uint64_t *reclaimed, struct berr *e);

/* When the image ref names was last pulled or checked against its
 * registry, or loaded when never pulled, in seconds since the epoch (0 when
 * unknown). -ENOENT when no image has that reference. */
int store_ref_refreshed(struct store *s, const char *ref, long long *at, struct berr *e);

/* Imports a docker-archive (docker save) or OCI image-layout tar, plain or
 * compressed. Every blob is verified; layers are unpacked once. The image
 * becomes visible only when complete. *loaded receives the references. */
/* path NULL or "-" reads standard input. *loaded receives normalized
 * references ("docker.io/library/busybox:latest"), or the image ID
 * ("sha256:...") for an image loaded without a name. */
int image_load_archive(struct store *s, const char *path, char ***loaded, struct berr *e);

/* Writes the images refs name (references or IDs) to fd as a docker-archive
 * (docker save) that is also an OCI image layout: each layer as the
 * uncompressed tar its DiffID names, blobs shared by several images once.
 * Every ref is resolved first: an unknown one fails before anything is
 * written. */
int image_save(struct store *s, char *const *refs, int fd, struct berr *e);
/* image_save into path.tmp, renamed to path when complete; on error the
 * temp file is removed and path is untouched. */
int image_save_file(struct store *s, char *const *refs, const char *path, struct berr *e);

/* Pulling: a fetcher (engine/registry) brings the bytes, the image module
 * verifies, plans and commits them through the same path as a load. */
struct blob_writer;
/* Appends to a blob being written into the store's staging, hashing it. */
int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct berr *e);
/* Drops what was written (a transfer starting over). */
int blob_writer_reset(struct blob_writer *w, struct berr *e);

/* A layer blob a pull downloads while it is unpacked (image_fetcher's
 * fetch_blobs): the transport hands the bytes to the ops below, the image
 * module stores, hashes and unpacks them. */
struct image_blob_job {
    const char *digest;
    int64_t size;
    void *ud; /* the image module's */
};

#define IMAGE_BLOB_WAIT  0 /* begin: another process fetches it; ask again later */
#define IMAGE_BLOB_START 1 /* begin: fetch from *offset */
#define IMAGE_BLOB_SKIP  2 /* begin: nothing to fetch (the store has it now) */

/* Called on the transport's thread, one job at a time. Every job gets
 * exactly one end call, whether it began or not. */
struct image_blob_ops {
    /* Before the first transfer of a job: IMAGE_BLOB_*, or < 0. */
    int (*begin)(struct image_blob_job *j, uint64_t *offset, struct berr *e);
    /* The registry answered with the whole blob to a range request: what
     * was kept is dropped, the bytes start again at 0. */
    int (*restart)(struct image_blob_job *j, struct berr *e);
    int (*data)(struct image_blob_job *j, const void *buf, size_t len, struct berr *e);
    /* A transient failure (why); the transfer resumes after delay_ms. */
    void (*retry)(struct image_blob_job *j, const char *why, unsigned attempt, unsigned delay_ms);
    /* r 0: the size bytes are all there; the callee verifies them and
     * returns < 0 (e says why) to reject. r < 0: the job failed or was
     * cancelled, e (may be empty) says why; the callee may add context. */
    int (*end)(struct image_blob_job *j, int r, struct berr *e);
};

struct image_fetcher {
    void *ctx;
    /* Streams the blob named digest (a manifest or index when manifest is
     * true) into w; stops with an error beyond size bytes. The caller
     * checks digest and size. */
    int (*fetch)(void *ctx, const char *digest, int64_t size, bool manifest, struct blob_writer *w,
                 struct berr *e);
    /* Downloads the jobs' blobs, several at once, resuming where begin
     * says, retrying transient failures; returns when every job has ended:
     * 0, or the first failure (the others cancelled). Jobs begin in the
     * order given, none while another waits: give them sorted by digest,
     * so that two processes never wait for each other. May be NULL:
     * blobs then come one by one through fetch. */
    int (*fetch_blobs)(void *ctx, struct image_blob_job *jobs, size_t n,
                       const struct image_blob_ops *ops, struct berr *e);
};

struct image_pull_stats {
    size_t blobs_fetched, blobs_present;
    uint64_t bytes_fetched;
    char manifest_digest[DIGEST_STR_SIZE]; /* of the document fetched by reference */
};

/* Imports the image whose manifest or index (doc, of media_type as the
 * registry said) was fetched by ref; every blob it names comes from the
 * store when present, else from f, and is verified (digest and size) before
 * anything is committed. A digest mismatch names the image, the blob and
 * both digests, and leaves nothing behind. *pulled receives the normalized
 * reference (or the image ID for a reference by digest). */
int image_pull_import(struct store *s, const char *ref, const char *media_type, const void *doc,
                      size_t len, const struct image_fetcher *f, struct image_pull_stats *stats,
                      char ***pulled, struct berr *e);

/* Pushing: what engine/registry reads of a stored image. */
struct image_push_src {
    char *id;                              /* the image ID (config digest) */
    char manifest_digest[DIGEST_STR_SIZE]; /* of manifest, checked */
    char *manifest;                        /* the manifest as stored, pushed byte for byte */
    size_t manifest_len;
    char **refs; /* every reference of the image, normalized, sorted; NULL-terminated */
};

/* The image ref_or_id names (as store_image_get), its stored manifest
 * (verified against its digest) and its references. */
int image_push_src_get(struct store *s, const char *ref_or_id, struct image_push_src *out,
                       struct berr *e);
void image_push_src_free(struct image_push_src *p);

/* Opens a stored blob for reading; an error names the blob when it is not
 * in the store. */
int image_blob_open(struct store *s, const char *digest, struct berr *e);
/* image_pull_import for a platform (NULL: this host's): an index's entry for
 * it is chosen (none: the error lists the index's platforms), and an image
 * whose config names another platform is refused. */
int image_pull_import_for(struct store *s, const char *ref, const struct platform *platform,
                          const char *media_type, const void *doc, size_t len,
                          const struct image_fetcher *f, struct image_pull_stats *stats,
                          char ***pulled, struct berr *e);

/* Rebuilds a damaged images.json from the store: every manifest blob whose
 * config and unpacked layers are present becomes an image again, and the
 * references the damaged file still names are kept. The damaged text is
 * kept as images.json.corrupt; nothing is removed from the store. Refuses
 * (-EEXIST) when the index is not damaged: it loads and every image it
 * lists can be read. */
int store_index_repair(struct store *s, size_t *n_images, size_t *n_refs, struct berr *e);

/* Containers record the image they use in $ROOT/containers/<id>/image-id
 * (one line: the config digest); the store reads these to protect images
 * and layers from removal. */

/* Building (engine/build): the builder makes its directories in a
 * scratch directory of the store's file system, so that a RUN step's
 * upper dir becomes a layer by a rename. */
/* tmp/build-XXXXXX, flock'd while this process lives (another writer's
 * clean-up skips it; a killed build's is removed by the next writer).
 * *path (the caller's) is absolute; *lockfd keeps it. */
int image_scratch_begin(struct store *s, char **path, int *lockfd, struct berr *e);
/* Removes the scratch directory (whatever is left in it) and lets the
 * lock go. */
void image_scratch_end(struct store *s, char *path, int lockfd);

/* A layer as a manifest names it, and as the store keeps it. */
struct image_layer_ref {
    char diff_id[DIGEST_STR_SIZE];
    char digest[DIGEST_STR_SIZE]; /* the blob */
    int64_t size;                 /* the blob's bytes */
    char media_type[80];          /* the blob's ("application/vnd.oci.image.layer.v1.tar+gzip") */
    char chain_id[DIGEST_STR_SIZE];
};
/* dir: an absolute path, on the store's file system (in a scratch
 * directory), of a tree in overlay form (whiteouts as 0/0 character
 * devices, opaque directories marked trusted.overlay.opaque=y, as a RUN
 * step's upper dir). Writes it as an OCI layer tar (entries in name
 * order; whiteouts as .wh.NAME, opaque directories as .wh..wh..opq; no
 * trusted.overlay.* xattr), gzip-compressed, into a blob, then moves dir
 * into the store as layer ChainID(parent_chain, DiffID) (dir is removed
 * when the store has that layer already). parent_chain NULL: the bottom
 * layer. The blob's temp file is made beside dir. A layer made in a
 * scratch directory (image_scratch_begin) is kept from other writers'
 * garbage collection until that directory ends, so that the image that
 * names it can be committed; after image_scratch_end, only an image keeps
 * it. gzip level 1; the same tree (names, contents, owners, modes,
 * mtimes, xattrs) gives the same blob. */
int image_layer_from_dir(struct store *s, const char *dir, const char *parent_chain,
                         struct image_layer_ref *out, struct berr *e);
/* Whether the store still has the layer's blob and unpacked tree. */
bool image_layer_present(struct store *s, const struct image_layer_ref *l);
/* The unpacked layer's directory (heap), for overlay lowerdirs. */
char *image_layer_dir(struct store *s, const char *chain_id);
/* The image ref_or_id names: its config (parsed, the caller's) and its
 * layers as its manifest lists them (*layers the caller's, free()). */
int image_parts_get(struct store *s, const char *ref_or_id, json_t **config,
                    struct image_layer_ref **layers, size_t *n, struct berr *e);
/* Stores an image: config (JSON text whose rootfs.diff_ids are the
 * layers' in order) as a blob, an OCI manifest naming it and the layers,
 * the image in the index, and every tag (a reference, normalized here)
 * pointing at it, moved from the image it named before as docker moves
 * it. Every layer must be unpacked in the store (a base image's blob
 * may be missing, as in that image). *id (the caller's, may be NULL)
 * receives the config digest. */
int image_commit(struct store *s, const char *config, size_t len,
                 const struct image_layer_ref *layers, size_t n, char *const *tags, char **id,
                 struct berr *e);

#endif
