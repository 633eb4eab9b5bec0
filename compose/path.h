/* SPDX-License-Identifier: Apache-2.0 */
/* Lexical path helpers for the loader: compose, like Go's filepath.Abs,
 * makes paths absolute and clean without touching the file system. */
#ifndef BERTH_COMPOSE_PATH_H
#define BERTH_COMPOSE_PATH_H

/* base + "/" + p, cleaned (".", "..", "//" removed: util/path.h); p as is
 * when absolute. Heap string. */
char *path_absolute(const char *base, const char *p);
/* Directory part of a clean absolute path ("/a/b" -> "/a", "/a" -> "/"). */
char *path_dirname(const char *p);
/* Last component of a clean absolute path ("/" for the root). */
const char *path_basename(const char *p);
/* How to name an absolute path in messages: relative to cwd when it lies
 * below it ("compose.yaml", "sub/x.yml"), absolute otherwise. Heap string. */
char *path_display(const char *cwd, const char *abs);

#endif
