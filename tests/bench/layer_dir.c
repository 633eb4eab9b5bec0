/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark harness (not a test): image_layer_from_dir on a copy of a
 * tree, timed alone (the copy is not). Prints seconds, the peak RSS of
 * this process, the tar's and the blob's sizes.
 * Usage: bench-layer-dir STORE_ROOT SOURCE_TREE */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/image/image.h"
#include "engine/image/store.h"
#include "util/xalloc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s STORE_ROOT SOURCE_TREE\n", argv[0]);
        return 2;
    }
    struct berr e = BERR_INIT;
    struct store *s = NULL;
    char *scratch = NULL;
    int lock = -1;
    if (store_open(argv[1], &s, &e) < 0 || image_scratch_begin(s, &scratch, &lock, &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    char *dir = xasprintf("%s/upper", scratch);
    char *cp = xasprintf("cp -a '%s' '%s'", argv[2], dir);
    if (system(cp) != 0)
        return 1;
    struct image_layer_ref l;
    double t0 = now();
    int r = image_layer_from_dir(s, dir, NULL, &l, &e);
    double t = now() - t0;
    if (r < 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("seconds %.3f maxrss_kb %ld blob_bytes %lld unpacked_bytes %lld\n", t, ru.ru_maxrss,
           (long long)l.size, (long long)store_layer_size(s, l.chain_id));
    image_scratch_end(s, scratch, lock);
    free(scratch);
    free(dir);
    free(cp);
    store_image_prune(s, true, NULL, NULL, NULL, NULL);
    store_close(s);
    return 0;
}
