/* SPDX-License-Identifier: Apache-2.0 */
/* YAML files read with libyaml's event API into a node tree that keeps what
 * compose needs and libyaml's loader loses or cannot bound:
 *  - every node's place, file:line:col (1-based);
 *  - the tag and the scalar style, so a quoted "123" stays a string;
 *  - aliases as shared references to the anchored node (no copy), with a
 *    budget on what the tree would grow to if expanded, so a billion-laughs
 *    file is refused instead of exploding in a later walk;
 *  - YAML merge keys (`<<: *a`, `<<: [*a, *b]`), which libyaml leaves out;
 *  - duplicate mapping keys refused, naming both lines;
 *  - a nesting-depth cap (libyaml 0.2.5 has none and its loader is quadratic
 *    in depth) and a node-count cap.
 *
 * Trees are DAGs: a node can hang under several parents. Each node's weight
 * is its size with aliases expanded, and a document's root weight is within
 * the budget, so a full walk of any parsed tree is bounded. Nodes live in an
 * arena and are never modified after parsing; later stages (interpolation,
 * merging) build new nodes and share the untouched ones. */
#ifndef BERTH_COMPOSE_YAML_H
#define BERTH_COMPOSE_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compose/arena.h"
#include "compose/diag.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

enum yscalar_style { YSTYLE_PLAIN, YSTYLE_SINGLE, YSTYLE_DOUBLE, YSTYLE_LITERAL, YSTYLE_FOLDED };

/* What a scalar means under the YAML 1.2 core schema (as compose-go's YAML
 * library resolves it): plain scalars are typed by their text, quoted and
 * block scalars are strings, an explicit standard tag (!!str, !!int...)
 * wins. */
enum yscalar_type { YTYPE_NULL, YTYPE_BOOL, YTYPE_INT, YTYPE_FLOAT, YTYPE_STR };

/* One input file (or stdin), as named in messages. */
struct ysource {
    const char *name; /* "compose.yaml", "../base.yml", "<stdin>" */
    size_t index;     /* its place in the list of files read */
};

struct ynode;

struct ypair {
    struct ynode *key; /* always a scalar */
    struct ynode *value;
};

struct ynode {
    enum ynode_kind kind;
    enum yscalar_style style; /* scalars only */
    const struct ysource *src;
    int line, col;   /* 1-based */
    const char *tag; /* as written, expanded ("tag:yaml.org,2002:str", "!reset"); NULL if none */
    uint64_t weight; /* nodes in this subtree with aliases expanded */
    unsigned open : 1;
    /* Canonical trees (compose/canon.c): the pairs are in output order (a
     * struct's field order) rather than sorted by key when printed. */
    unsigned ordered : 1;
    /* Canonical trees: left out of YAML output when null or an empty
     * mapping (JSON still shows it, as compose's Go structs do). */
    unsigned yaml_omit : 1;
    /* Canonical trees: made by the first canonical pass, so the final pass
     * may take it as it is (compose/canon.c). */
    unsigned canonical : 1;
    /* Scalars: yscalar_type's answer, kept when typed is set (by the
     * constructors, and by ynode_set_tag after a tag changes). A scalar's
     * text, style and tag are not changed otherwise once it is made. */
    unsigned typed : 1;
    unsigned type : 3;
    union {
        struct { /* YNODE_SCALAR: NUL-terminated, may hold NULs ("\0" escape) */
            const char *str;
            size_t len;
        };
        struct { /* YNODE_SEQ */
            struct ynode **items;
            size_t n_items;
        };
        struct { /* YNODE_MAP: in document order, merge keys resolved */
            struct ypair *pairs;
            size_t n_pairs;
        };
    };
};

/* Arguments for diag_*_at(): the node's "file:line:col". */
#define YPOS(n) (n)->src->name, (n)->line, (n)->col

struct yaml_limits {
    size_t max_depth;    /* nesting of sequences and mappings */
    size_t max_nodes;    /* nodes (scalars, collections, aliases) per file */
    uint64_t alias_mult; /* expanded size may reach alias_mult * nodes + alias_base */
    uint64_t alias_base;
};

#define YAML_COMPOSE_MAX_DEPTH  64
#define YAML_COMPOSE_MAX_NODES  2000000
#define YAML_COMPOSE_ALIAS_MULT 10
#define YAML_COMPOSE_ALIAS_BASE 10000

/* The limits used for compose files. */
void yaml_compose_limits(struct yaml_limits *l);

struct ydocs {
    struct ynode **docs; /* one root per YAML document; NULL for an empty one */
    size_t n;
};

/* Parses buf (len bytes, need not be NUL-terminated) into the documents it
 * holds. Errors go to d, each naming src->name:line:col; returns 0 when the
 * file parsed with no error, -EINVAL otherwise (out is then empty). The tree
 * and out->docs are allocated in a. */
int yaml_parse(struct arena *a, const struct ysource *src, const char *buf, size_t len,
               const struct yaml_limits *lim, struct diag *d, struct ydocs *out);

/* --- Reading a tree ------------------------------------------------------ */

/* The value for key in a mapping (by exact bytes), or NULL. Linear: use it
 * for the handful of lookups a model stage makes, not in loops over keys. */
struct ynode *ymap_get(const struct ynode *map, const char *key);
/* Same, returning the pair (so its key's position is at hand). */
const struct ypair *ymap_get_pair(const struct ynode *map, const char *key);

enum yscalar_type yscalar_type(const struct ynode *n);
bool ynode_is_null(const struct ynode *n);
/* True when the scalar holds a NUL byte and can't become a C string. */
bool yscalar_has_nul(const struct ynode *n);
/* Typed values; return 0, or -EINVAL when n doesn't have that type, -ERANGE
 * when it overflows. yscalar_int takes decimal, 0x and 0o forms. */
int yscalar_bool(const struct ynode *n, bool *out);
int yscalar_int(const struct ynode *n, int64_t *out);
int yscalar_float(const struct ynode *n, double *out);
/* "a string", "a list", "a mapping", "a number", "null"...: for "expected a
 * string, got a list" messages. */
const char *ynode_describe(const struct ynode *n);

/* A new scalar not read from any file (merging builds these). */
struct ynode *ynode_new_scalar(struct arena *a, const struct ysource *src, int line, int col,
                               const char *str, size_t len, enum yscalar_style style);
struct ynode *ynode_new_map(struct arena *a, const struct ynode *pos_from, struct ypair *pairs,
                            size_t n_pairs);

/* Gives a node (one just made, not yet shared) another tag, keeping the
 * scalar type it caches right. */
void ynode_set_tag(struct ynode *n, const char *tag);

/* Compares two scalars' bytes, for sorting keys. */
int yscalar_cmp(const struct ynode *a, const struct ynode *b);

#endif
