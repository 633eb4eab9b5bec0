/* SPDX-License-Identifier: Apache-2.0 */
/* The string form of `command` and `entrypoint`, split into words the way
 * compose-go does it (mattn/go-shellwords, with no variable or backtick
 * expansion): blanks separate words; single quotes keep everything; double
 * quotes keep blanks; a backslash outside single quotes takes the next
 * character literally (inside double quotes too); "" and '' make an empty
 * word; `...` and $(...) are kept as written, blanks included.
 *
 * An unquoted ; & | < or > ends the command there: compose silently drops
 * the rest, berth does the same but reports where it stopped so the caller
 * can warn. */
#ifndef BERTH_COMPOSE_SHELLWORDS_H
#define BERTH_COMPOSE_SHELLWORDS_H

#include <stddef.h>

/* On success *argv is a NULL-terminated heap vector (possibly empty) and
 * *stop is the byte offset of the operator that ended the parse, or -1.
 * Returns -EINVAL with *err set to a static description on an unterminated
 * quote, a trailing backslash or an unbalanced parenthesis. */
int shellwords_split(const char *s, char ***argv, long *stop, const char **err);

#endif
