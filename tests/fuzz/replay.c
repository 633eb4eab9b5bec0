/* SPDX-License-Identifier: Apache-2.0 */
/* Replays the fuzz corpus through the fuzz target without libFuzzer, so the
 * normal (and the sanitizer) build checks every committed input. Usage:
 * fuzz_compose_replay DIR... */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        _cleanup_closedir_ DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            _cleanup_free_ char *path = fs_path_join(argv[i], de->d_name);
            _cleanup_free_ char *buf = NULL;
            size_t len = 0;
            struct berr e = BERR_INIT;
            if (fs_read_file(AT_FDCWD, path, 1 << 24, &buf, &len, &e) < 0) {
                fprintf(stderr, "%s: %s\n", path, e.msg);
                berr_clear(&e);
                return 1;
            }
            LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
            n++;
        }
    }
    printf("replayed %zu inputs: 1 passed, 0 failed\n", n);
    return n ? 0 : 1;
}
