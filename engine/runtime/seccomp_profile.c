/* SPDX-License-Identifier: Apache-2.0 */
/* A Docker-format seccomp profile compiled with libseccomp: moby's
 * profiles/seccomp/seccomp_linux.go rules for what applies (archMap,
 * includes/excludes), runc's for how each rule is added (several
 * comparisons on one argument become separate rules). Not here: the
 * default profile (engine/runtime/seccomp.c). */
#include "engine/runtime/seccomp_profile.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/caps.h"
#include "util/kernel.h"

/* This host's architecture as Go (and so Docker's profiles) names it, and
 * as libseccomp does. */
static const struct {
    uint32_t scmp;
    const char *go, *name;
} arches[] = {
    {SCMP_ARCH_X86_64, "amd64", "SCMP_ARCH_X86_64"},
    {SCMP_ARCH_X86, "386", "SCMP_ARCH_X86"},
    {SCMP_ARCH_AARCH64, "arm64", "SCMP_ARCH_AARCH64"},
    {SCMP_ARCH_ARM, "arm", "SCMP_ARCH_ARM"},
    {SCMP_ARCH_PPC64LE, "ppc64le", "SCMP_ARCH_PPC64LE"},
    {SCMP_ARCH_S390X, "s390x", "SCMP_ARCH_S390X"},
    {SCMP_ARCH_RISCV64, "riscv64", "SCMP_ARCH_RISCV64"},
};

static const char *native_go_arch(void)
{
    uint32_t n = seccomp_arch_native();
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        if (arches[i].scmp == n)
            return arches[i].go;
    return "";
}

static const char *seccomp_name_of_go(const char *go)
{
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        if (strcmp(arches[i].go, go) == 0)
            return arches[i].name;
    return "";
}

struct ctx {
    const char *src;
    const char *arch;   /* Go name */
    const char *kernel; /* release */
    uint64_t caps;
    struct berr *e;
};

static int bad(struct ctx *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct ctx *c, const char *where, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return berr_set(c->e, -EINVAL, "%s: %s: %s", c->src, where, msg);
}

/* "SCMP_ACT_ERRNO" with errnoRet (a JSON integer or absent) to libseccomp's
 * action; -1 for an action that is not known or not supported. */
static int action_of(struct ctx *c, const char *where, json_t *act, json_t *ret, uint32_t *out)
{
    if (!json_is_string(act))
        return bad(c, where, "expected an action such as \"SCMP_ACT_ERRNO\"");
    const char *a = json_string_value(act);
    if (ret && !json_is_null(ret) && !json_is_integer(ret))
        return bad(c, where, "errnoRet must be a number");
    json_int_t rv = json_is_integer(ret) ? json_integer_value(ret) : EPERM;
    if (rv < 0 || rv > 0xffff)
        return bad(c, where, "errnoRet out of range");
    if (strcmp(a, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(a, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint32_t)rv);
    else if (strcmp(a, "SCMP_ACT_KILL") == 0 || strcmp(a, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(a, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(a, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(a, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint32_t)rv);
    else if (strcmp(a, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(a, "SCMP_ACT_NOTIFY") == 0)
        return bad(c, where,
                   "SCMP_ACT_NOTIFY is not supported (it needs a listener, which berth does "
                   "not run)");
    else
        return bad(c, where, "unknown action \"%s\"", a);
    return 0;
}

static int op_of(const char *s, enum scmp_compare *out)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(s, ops[i].name) == 0) {
            *out = ops[i].op;
            return 0;
        }
    return -1;
}

/* A JSON array of strings (absent or null: empty); -1 otherwise. */
static int str_array(json_t *a, size_t *n)
{
    *n = 0;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return -1;
    *n = json_array_size(a);
    return 0;
}

static bool arch_listed(struct ctx *c, json_t *list)
{
    size_t i;
    json_t *v;
    const char *scmp = seccomp_name_of_go(c->arch);
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (strcmp(s, c->arch) == 0 || strcmp(s, scmp) == 0)
            return true;
    }
    return false;
}

/* "4.8" against the kernel's release: 1 when the kernel is at least that. */
static int kernel_meets(struct ctx *c, const char *where, const char *min)
{
    int maj = 0, mn = 0;
    char tail;
    if (sscanf(min, "%d.%d%c", &maj, &mn, &tail) != 2 || maj < 0 || mn < 0)
        return bad(c, where, "minKernel \"%s\" is not MAJOR.MINOR", min);
    return kernel_release_at_least(c->kernel, maj, mn) ? 1 : 0;
}

/* Whether a syscalls[] entry applies here (moby's rules): 1 yes, 0 no. */
static int applies(struct ctx *c, const char *where, json_t *call)
{
    for (int inc = 0; inc < 2; inc++) {
        const char *key = inc ? "includes" : "excludes";
        json_t *f = json_object_get(call, key);
        if (!f || json_is_null(f))
            continue;
        if (!json_is_object(f))
            return bad(c, where, "%s must be an object", key);
        size_t n_arch, n_caps;
        json_t *arch = json_object_get(f, "arches"), *caps = json_object_get(f, "caps");
        if (str_array(arch, &n_arch) < 0 || str_array(caps, &n_caps) < 0)
            return bad(c, where, "%s: arches and caps must be lists of strings", key);
        bool all_caps = true, any_cap = false;
        size_t i;
        json_t *v;
        if (n_caps)
            json_array_foreach(caps, i, v)
            {
                int cap = caps_parse_name(json_string_value(v));
                if (cap < 0 || cap == CAPS_NAME_ALL)
                    return bad(c, where, "unknown capability \"%s\"", json_string_value(v));
                bool has = c->caps & (1ULL << cap);
                all_caps = all_caps && has;
                any_cap = any_cap || has;
            }
        json_t *mk = json_object_get(f, "minKernel");
        int kern = -1;
        if (mk && !json_is_null(mk)) {
            if (!json_is_string(mk))
                return bad(c, where, "minKernel must be a string such as \"4.8\"");
            if (*json_string_value(mk)) {
                kern = kernel_meets(c, where, json_string_value(mk));
                if (kern < 0)
                    return kern;
            }
        }
        if (inc) {
            if ((n_arch && !arch_listed(c, arch)) || (n_caps && !all_caps) || kern == 0)
                return 0;
        } else {
            if ((n_arch && arch_listed(c, arch)) || (n_caps && any_cap) || kern == 1)
                return 0;
        }
    }
    return 1;
}

/* The args of one entry, in arr (up to 6); returns the count, or <0. */
static int conditions(struct ctx *c, const char *where, json_t *args, struct scmp_arg_cmp *arr,
                      bool *same_index)
{
    *same_index = false;
    if (!args || json_is_null(args))
        return 0;
    if (!json_is_array(args))
        return bad(c, where, "args must be a list");
    if (json_array_size(args) > 6)
        return bad(c, where, "more than 6 args");
    unsigned seen = 0;
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        json_t *idx = json_object_get(a, "index"), *val = json_object_get(a, "value"),
               *two = json_object_get(a, "valueTwo"), *op = json_object_get(a, "op");
        if (!json_is_object(a) || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
            json_integer_value(idx) > 5)
            return bad(c, where, "args: index must be 0 to 5");
        if ((val && !json_is_integer(val)) || (two && !json_is_integer(two)))
            return bad(c, where, "args: value and valueTwo must be numbers");
        enum scmp_compare cmp;
        if (!json_is_string(op) || op_of(json_string_value(op), &cmp) < 0)
            return bad(c, where, "args: unknown op \"%s\"",
                       json_is_string(op) ? json_string_value(op) : "");
        unsigned ix = (unsigned)json_integer_value(idx);
        if (seen & (1U << ix))
            *same_index = true;
        seen |= 1U << ix;
        arr[i] = (struct scmp_arg_cmp){
            .arg = ix,
            .op = cmp,
            .datum_a = val ? (scmp_datum_t)json_integer_value(val) : 0,
            .datum_b = two ? (scmp_datum_t)json_integer_value(two) : 0,
        };
    }
    return (int)json_array_size(args);
}

static int add_one(struct ctx *c, scmp_filter_ctx f, const char *where, const char *name,
                   uint32_t act, int n, const struct scmp_arg_cmp *arr, bool split)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* unknown to this libseccomp: skipped, as runc does */
    int r = 0;
    if (split) /* libseccomp ANDs comparisons of one argument: one rule each (runc) */
        for (int i = 0; i < n && r >= 0; i++)
            r = seccomp_rule_add_array(f, act, nr, 1, &arr[i]);
    else
        r = seccomp_rule_add_array(f, act, nr, (unsigned)n, arr);
    if (r < 0 && r != -EEXIST)
        return berr_set(c->e, r, "%s: %s: adding the rule for %s: %s", c->src, where, name,
                        strerror(-r));
    return 0;
}

static int add_call(struct ctx *c, scmp_filter_ctx f, uint32_t def, size_t k, json_t *call)
{
    char where[64];
    snprintf(where, sizeof where, "syscalls[%zu]", k);
    if (!json_is_object(call))
        return bad(c, where, "expected an object");
    int ap = applies(c, where, call);
    if (ap <= 0)
        return ap;
    json_t *name = json_object_get(call, "name"), *names = json_object_get(call, "names");
    size_t n_names;
    if (name && !json_is_null(name) && !json_is_string(name))
        return bad(c, where, "name must be a string");
    if (str_array(names, &n_names) < 0)
        return bad(c, where, "names must be a list of strings");
    if (json_is_string(name) && n_names)
        return bad(c, where, "use either 'name' or 'names'");
    uint32_t act;
    int r = action_of(c, where, json_object_get(call, "action"), json_object_get(call, "errnoRet"),
                      &act);
    if (r < 0)
        return r;
    struct scmp_arg_cmp arr[6];
    bool split;
    int n = conditions(c, where, json_object_get(call, "args"), arr, &split);
    if (n < 0)
        return n;
    if (act == def)
        return 0; /* libseccomp refuses a rule that is the default: it changes nothing */
    if (json_is_string(name))
        return add_one(c, f, where, json_string_value(name), act, n, arr, split);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        r = add_one(c, f, where, json_string_value(v), act, n, arr, split);
        if (r < 0)
            return r;
    }
    return 0;
}

/* "SCMP_ARCH_X86_64" to libseccomp's token; 0 when unknown. */
static uint32_t arch_token(const char *s)
{
    if (strncmp(s, "SCMP_ARCH_", 10) != 0)
        return 0;
    char low[32];
    size_t i = 0;
    for (const char *p = s + 10; *p && i + 1 < sizeof low; p++)
        low[i++] = (char)tolower((unsigned char)*p);
    low[i] = '\0';
    return seccomp_arch_resolve_name(low);
}

static int add_arch(struct ctx *c, scmp_filter_ctx f, const char *where, const char *name)
{
    uint32_t t = arch_token(name);
    if (!t)
        return bad(c, where, "unknown architecture \"%s\"", name);
    int r = seccomp_arch_add(f, t);
    if (r < 0 && r != -EEXIST)
        return berr_set(c->e, r, "%s: %s: adding architecture %s: %s", c->src, where, name,
                        strerror(-r));
    return 0;
}

/* architectures, or the archMap entry of this architecture (moby). */
static int add_arches(struct ctx *c, scmp_filter_ctx f, json_t *root)
{
    json_t *list = json_object_get(root, "architectures"), *map = json_object_get(root, "archMap");
    size_t n_list;
    if (str_array(list, &n_list) < 0)
        return bad(c, "architectures", "expected a list of strings");
    bool has_map = map && !json_is_null(map);
    if (n_list && has_map && json_array_size(map))
        return bad(c, "archMap", "use either 'architectures' or 'archMap'");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        int r = add_arch(c, f, "architectures", json_string_value(v));
        if (r < 0)
            return r;
    }
    if (!has_map)
        return 0;
    if (!json_is_array(map))
        return bad(c, "archMap", "expected a list");
    const char *native = seccomp_name_of_go(c->arch);
    json_array_foreach(map, i, v)
    {
        json_t *a = json_object_get(v, "architecture"),
               *subs = json_object_get(v, "subArchitectures");
        size_t n_subs;
        if (!json_is_string(a) || str_array(subs, &n_subs) < 0)
            return bad(c, "archMap",
                       "each entry needs an architecture and a list of "
                       "subArchitectures");
        if (strcmp(json_string_value(a), native) != 0)
            continue;
        int r = add_arch(c, f, "archMap", json_string_value(a));
        size_t j;
        json_t *s;
        json_array_foreach(subs, j, s) if (r == 0) r =
            add_arch(c, f, "archMap", json_string_value(s));
        if (r < 0)
            return r;
    }
    return 0;
}

int seccomp_profile_compile(const char *text, size_t len, const char *source,
                            const struct seccomp_env *env, struct seccomp_prog *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    struct utsname u;
    struct ctx c = {.src = source, .caps = env->caps, .e = e};
    c.arch = env->arch ? env->arch : native_go_arch();
    c.kernel = env->kernel;
    if (!c.kernel) {
        if (uname(&u) < 0)
            return berr_errno(e, errno, "%s: uname", source);
        c.kernel = u.release;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return berr_set(e, -EINVAL, "%s:%d:%d: %s", source, je.line, je.column, je.text);
    int r = 0;
    scmp_filter_ctx f = NULL;
    uint32_t def;
    if (!json_is_object(root)) {
        r = bad(&c, "the profile", "expected a JSON object");
        goto out;
    }
    r = action_of(&c, "defaultAction", json_object_get(root, "defaultAction"),
                  json_object_get(root, "defaultErrnoRet"), &def);
    if (r < 0)
        goto out;
    json_t *calls = json_object_get(root, "syscalls");
    if (calls && !json_is_null(calls) && !json_is_array(calls)) {
        r = bad(&c, "syscalls", "expected a list");
        goto out;
    }
    f = seccomp_init(def);
    if (!f) {
        r = berr_set(e, -ENOMEM, "%s: cannot initialise a seccomp filter", source);
        goto out;
    }
    seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    r = add_arches(&c, f, root);
    size_t k;
    json_t *call;
    json_array_foreach(calls, k, call)
    {
        if (r < 0)
            break;
        r = add_call(&c, f, def, k, call);
    }
    if (r == 0) {
        r = seccomp_export_prog(f, out, e);
        f = NULL;
        if (r < 0)
            berr_wrap(e, "%s", source);
    }
out:
    if (f)
        seccomp_release(f);
    json_decref(root);
    return r;
}
