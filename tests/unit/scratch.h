/* SPDX-License-Identifier: Apache-2.0 */
/* A scratch directory for a unit test, under $BERTH_TEST_TMP (or /tmp):
 * made fresh, removed with everything in it. Include after cmocka.h. */
#ifndef BERTH_TESTS_SCRATCH_H
#define BERTH_TESTS_SCRATCH_H

#include <fcntl.h>
#include <stdlib.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* "<base>/<prefix>.XXXXXX", made; heap string. */
static inline char *scratch_dir(const char *prefix)
{
    const char *base = getenv("BERTH_TEST_TMP");
    if (!base)
        base = "/tmp";
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(base, 0755, &e), 0);
    char *t = xasprintf("%s/%s.XXXXXX", base, prefix);
    assert_non_null(mkdtemp(t));
    return t;
}

/* Removes the directory and frees its name. */
static inline void scratch_remove(char *dir)
{
    struct berr e = BERR_INIT;
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
    free(dir);
}

#endif
