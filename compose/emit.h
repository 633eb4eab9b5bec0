/* SPDX-License-Identifier: Apache-2.0 */
/* Printing a canonical compose tree the way `docker compose config` prints
 * its project: YAML as Go's yaml encoder writes it (2-space indents, lists
 * indented under their key, strings quoted only where YAML would read them
 * as something else, multi-line strings as literal blocks) or JSON as
 * Go's json.MarshalIndent writes it (2 spaces, "<", ">" and "&" escaped).
 * Mappings print their keys sorted unless they are in a struct's order
 * (ynode.ordered). */
#ifndef BERTH_COMPOSE_EMIT_H
#define BERTH_COMPOSE_EMIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compose/yaml.h"

struct emit_buf {
    char *s;
    size_t len, cap;
    /* When set, the text goes there in pieces of EMIT_FLUSH_AT bytes or so
     * (s holds the latest piece); emit_flush writes the rest. */
    FILE *out;
};

#define EMIT_FLUSH_AT (64u * 1024u)

/* Appends n bytes (s stays NUL-terminated); emit_put_slow grows the buffer
 * or writes a piece out first. */
void emit_put_slow(struct emit_buf *b, const char *s, size_t n);
void emit_flush(struct emit_buf *b);

static inline void emit_put(struct emit_buf *b, const char *s, size_t n)
{
    size_t end = b->len + n + 1;
    if (end > b->cap || (b->out && end > EMIT_FLUSH_AT)) {
        emit_put_slow(b, s, n);
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

struct emit_opts {
    bool escape_dollar; /* "$" printed as "$$" (an interpolated project) */
    bool sort_root;     /* JSON: the top level sorted (compose marshals it as a map) */
    /* JSON: x- keys of the objects below the top level (services, networks,
     * ports...) left out, as `docker compose config --format json` and
     * compose's config hash leave them (compose-go types: Extensions
     * `json:"-"`); the top level's x- keys are printed. */
    bool drop_object_ext;
};

void emit_yaml(struct emit_buf *b, const struct ynode *root, const struct emit_opts *o);
/* indent < 0: compact (for hashing). */
void emit_json(struct emit_buf *b, const struct ynode *root, int indent, const struct emit_opts *o);

#endif
