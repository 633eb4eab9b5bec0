/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated string vectors (argv/envp shaped). */
#ifndef BERTH_UTIL_STRV_H
#define BERTH_UTIL_STRV_H

#include <stdbool.h>
#include <stddef.h>

size_t strv_len(char *const *v);
void strv_free(char **v);
/* Appends s (ownership taken) to *v, reallocating. */
void strv_push(char ***v, char *s);
char **strv_dup(char *const *v);
bool strv_contains(char *const *v, const char *s);
/* "a", sep and "b" in a new string: what xasprintf("%s=%s", a, b) gives,
 * without the cost of a format. The one string joiner (fs_path_join adds
 * a path's slash rules on top). */
char *str_join(const char *a, char sep, const char *b);
/* The items of v with sep between them ("" for an empty or NULL v), in
 * one allocation. */
char *strv_join(char *const *v, const char *sep);
/* Levenshtein distance between a (la bytes) and b (lb bytes), for "did
 * you mean" hints; 99 when either is longer than 40 bytes. */
size_t str_edit_distance(const char *a, size_t la, const char *b, size_t lb);
/* A string that grows by appending (capacity doubling): s is
 * NUL-terminated once anything, even "", was put; the owner frees s. */
struct strbuf {
    char *s;
    size_t len, cap;
};
void strbuf_put(struct strbuf *b, const char *s, size_t n);
/* Environment helpers: entries are "KEY=VALUE". */
const char *strv_env_get(char *const *env, const char *key);
/* Sets KEY=VALUE, replacing an existing KEY in place (order kept). */
void strv_env_set(char ***env, const char *key, const char *value);
/* Sets from a "KEY=VALUE" (or "KEY") entry. */
void strv_env_put(char ***env, const char *entry);

static inline void cleanup_strvp(char ***v)
{
    strv_free(*v);
}
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

#endif
