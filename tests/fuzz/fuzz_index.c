/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the image store's index: the bytes become
 * images.json of a store that holds one image's config blob, then go
 * through the real readers: store_index_load (via listing), lookups by
 * reference, short ID, full ID and manifest digest, and removal. When the
 * index is refused, `berth image repair`'s store_index_repair must rebuild
 * an index that loads; anything else aborts.
 *
 * The store is made once per process, on /dev/shm when it exists (the
 * store fsyncs every write; a tmpfs makes that cheap), and removed at
 * exit. Harness state lives in statics, as fuzz harnesses must. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* The config blob every seed's image ID names (its sha256 is
 * FUZZ_INDEX_CONFIG_ID; the seeds in corpus_index/ use it). */
static const char config_json[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
    "\"config\":{\"Entrypoint\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\"]}}";

static struct {
    struct store *s;
    char *dir;
    char id[DIGEST_STR_SIZE];
} h;

static void teardown(void)
{
    store_close(h.s);
    struct berr e = BERR_INIT;
    fs_rm_rf_at(AT_FDCWD, h.dir, &e);
    berr_clear(&e);
    free(h.dir);
}

static void must(bool ok, const char *what, const struct berr *e)
{
    if (!ok) {
        fprintf(stderr, "fuzz_index: %s: %s\n", what, e && e->msg ? e->msg : strerror(errno));
        abort();
    }
}

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    h.dir = xasprintf("%s/berth-fuzz-index.XXXXXX", base && *base ? base : "/tmp");
    must(mkdtemp(h.dir) != NULL, h.dir, NULL);
    struct berr e = BERR_INIT;
    must(store_open(h.dir, &h.s, &e) == 0, "store_open", &e);
    atexit(teardown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!h.s)
        setup();
    struct berr e = BERR_INIT;
    /* A removal may have collected the config blob: put it back. */
    must(store_blob_put(h.s, config_json, strlen(config_json), NULL, h.id, NULL, &e) == 0,
         "putting the config blob", &e);
    must(fs_write_replace(h.s->rootfd, "images.json", data, size, 0600, &e) == 0,
         "writing images.json", &e);

    struct image **list = NULL;
    size_t n = 0;
    int r = store_image_list_all(h.s, true, &list, &n, &e);
    berr_clear(&e);
    if (r == 0)
        image_list_free(list, n);
    static const char *const names[] = {
        "test/app:1",
        "docker.io/test/app:1",
        "busybox",
        "0123456789ab",
        "sha256:0123",
        "test/app@sha256:2222222222222222222222222222222222222222222222222222222222222222",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct image *img = NULL;
        if (store_image_get(h.s, names[i], &img, &e) == 0)
            image_free(img);
        berr_clear(&e);
    }
    struct image *img = NULL;
    if (store_image_get(h.s, h.id, &img, &e) == 0)
        image_free(img);
    berr_clear(&e);

    _cleanup_strv_ char **untagged = NULL, **deleted = NULL;
    store_image_remove_ex(h.s, "test/app:1", false, &untagged, &deleted, &e);
    berr_clear(&e);

    if (r < 0) {
        /* The way out the error names must work on whatever was there. */
        size_t ni = 0, nr = 0;
        must(fs_write_replace(h.s->rootfd, "images.json", data, size, 0600, &e) == 0,
             "writing images.json", &e);
        r = store_index_repair(h.s, &ni, &nr, &e);
        must(r == 0 || r == -EEXIST, "store_index_repair", &e);
        berr_clear(&e);
        must(store_image_list_all(h.s, true, &list, &n, &e) == 0, "listing after repair", &e);
        image_list_free(list, n);
    }
    return 0;
}
