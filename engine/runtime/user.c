/* SPDX-License-Identifier: Apache-2.0 */
/* A container's `user` resolved against its own /etc/passwd and /etc/group
 * from buffers, allocation-free so the init can call it after clone. Never
 * NSS. Not here: reading the files and switching ids (engine/runtime/proc.c). */
#include "engine/runtime/user.h"

#include <string.h>

/* Small async-signal-safe string helpers. */
static void cat(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    while (*s && n + 1 < cap)
        dst[n++] = *s++;
    dst[n] = '\0';
}

static bool parse_id(const char *s, size_t len, unsigned long *out)
{
    if (len == 0 || len > 10)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 0xfffffffeUL)
        return false;
    *out = v;
    return true;
}

/* Splits a line into up to n ':'-separated fields (pointers + lengths). */
static int split_fields(const char *line, size_t len, const char **f, size_t *fl, int n)
{
    int k = 0;
    const char *start = line;
    for (size_t i = 0; i <= len && k < n; i++) {
        if (i == len || line[i] == ':') {
            f[k] = start;
            fl[k] = (size_t)(line + i - start);
            k++;
            start = line + i + 1;
        }
    }
    return k;
}

static bool field_eq(const char *f, size_t fl, const char *s, size_t sl)
{
    return fl == sl && memcmp(f, s, sl) == 0;
}

/* Iterates lines of buf; calls fn for each; stops when fn returns true. */
typedef bool (*line_fn)(const char *line, size_t len, void *ctx);
static void for_lines(const char *buf, size_t len, line_fn fn, void *ctx)
{
    size_t i = 0;
    while (buf && i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n')
            j++;
        if (j > i && buf[i] != '#' && fn(buf + i, j - i, ctx))
            return;
        i = j + 1;
    }
}

struct pw_query {
    const char *name;
    size_t name_len;
    unsigned long uid;
    bool by_uid;
    bool found;
    unsigned long out_uid, out_gid;
    char name_out[256];
    char home[256];
};

static bool pw_match(const char *line, size_t len, void *ctx)
{
    struct pw_query *q = ctx;
    const char *f[7];
    size_t fl[7];
    if (split_fields(line, len, f, fl, 7) < 7)
        return false;
    unsigned long uid, gid;
    if (!parse_id(f[2], fl[2], &uid) || !parse_id(f[3], fl[3], &gid))
        return false;
    bool hit = q->by_uid ? uid == q->uid : field_eq(f[0], fl[0], q->name, q->name_len);
    if (!hit)
        return false;
    q->found = true;
    q->out_uid = uid;
    q->out_gid = gid;
    size_t n = fl[0] < sizeof q->name_out - 1 ? fl[0] : sizeof q->name_out - 1;
    memcpy(q->name_out, f[0], n);
    q->name_out[n] = '\0';
    n = fl[5] < sizeof q->home - 1 ? fl[5] : sizeof q->home - 1;
    memcpy(q->home, f[5], n);
    q->home[n] = '\0';
    return true;
}

struct gr_query {
    const char *name; /* group name to find, or NULL */
    size_t name_len;
    bool found;
    unsigned long gid;
    /* supplementary: member name */
    const char *member;
    size_t member_len;
    struct user_ids *ids;
};

static bool gr_match(const char *line, size_t len, void *ctx)
{
    struct gr_query *q = ctx;
    const char *f[4];
    size_t fl[4];
    int nf = split_fields(line, len, f, fl, 4);
    if (nf < 3)
        return false;
    unsigned long gid;
    if (!parse_id(f[2], fl[2], &gid))
        return false;
    if (q->name) {
        if (field_eq(f[0], fl[0], q->name, q->name_len)) {
            q->found = true;
            q->gid = gid;
            return true;
        }
        return false;
    }
    if (nf < 4 || fl[3] == 0)
        return false;
    /* members: comma-separated in field 3 */
    const char *m = f[3];
    size_t ml = fl[3];
    size_t i = 0;
    while (i <= ml) {
        size_t j = i;
        while (j < ml && m[j] != ',')
            j++;
        if (field_eq(m + i, j - i, q->member, q->member_len)) {
            struct user_ids *ids = q->ids;
            bool dup = (gid_t)gid == ids->gid;
            for (int k = 0; k < ids->ngroups; k++)
                if (ids->groups[k] == (gid_t)gid)
                    dup = true;
            if (!dup && ids->ngroups < USER_MAX_GROUPS)
                ids->groups[ids->ngroups++] = (gid_t)gid;
            break;
        }
        i = j + 1;
    }
    return false;
}

int user_resolve(const char *spec, const char *passwd, size_t passwd_len, const char *group,
                 size_t group_len, struct user_ids *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!spec)
        spec = "";
    const char *colon = strchr(spec, ':');
    size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *gspec = colon ? colon + 1 : NULL;

    struct pw_query pq = {0};
    unsigned long num;
    if (ulen == 0) {
        pq.by_uid = true;
        pq.uid = 0;
    } else if (parse_id(spec, ulen, &num)) {
        pq.by_uid = true;
        pq.uid = num;
    } else {
        pq.name = spec;
        pq.name_len = ulen;
    }
    for_lines(passwd, passwd_len, pw_match, &pq);
    if (!pq.found && !pq.by_uid) {
        err[0] = '\0';
        cat(err, errlen, "unable to find user ");
        size_t n = strlen(err);
        for (size_t i = 0; i < ulen && n + 1 < errlen; i++)
            err[n++] = spec[i];
        err[n] = '\0';
        cat(err, errlen, ": no matching entries in passwd file");
        return -1;
    }
    out->uid = pq.found ? (uid_t)pq.out_uid : (uid_t)pq.uid;
    out->gid = pq.found ? (gid_t)pq.out_gid : 0;
    out->home[0] = '\0';
    cat(out->home, sizeof out->home, pq.found && pq.home[0] ? pq.home : "/");

    if (gspec && *gspec) {
        if (parse_id(gspec, strlen(gspec), &num)) {
            out->gid = (gid_t)num;
        } else {
            struct gr_query gq = {.name = gspec, .name_len = strlen(gspec)};
            for_lines(group, group_len, gr_match, &gq);
            if (!gq.found) {
                err[0] = '\0';
                cat(err, errlen, "unable to find group ");
                cat(err, errlen, gspec);
                cat(err, errlen, ": no matching entries in group file");
                return -1;
            }
            out->gid = (gid_t)gq.gid;
        }
    }
    /* Supplementary groups: those that list the user by name, as Docker. */
    if (pq.found && !gspec) {
        struct gr_query gq = {.member = pq.name_out, .member_len = strlen(pq.name_out), .ids = out};
        for_lines(group, group_len, gr_match, &gq);
    }
    return 0;
}

int user_group_id(const char *spec, const char *group, size_t group_len, gid_t *out)
{
    unsigned long num;
    if (parse_id(spec, strlen(spec), &num)) {
        *out = (gid_t)num;
        return 0;
    }
    struct gr_query gq = {.name = spec, .name_len = strlen(spec)};
    for_lines(group, group_len, gr_match, &gq);
    if (!gq.found)
        return -1;
    *out = (gid_t)gq.gid;
    return 0;
}
