/* SPDX-License-Identifier: Apache-2.0 */
/* `berth info`: what this host offers berth and what the store holds,
 * shaped like `docker info`, and checked: when berth cannot run containers
 * here it says why and exits 1. The facts come from engine/info.
 * Not here: probing and the requirement table (engine/info/). */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/ui/format.h"
#include "engine/info/hostinfo.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* 1.5GiB, as docker info prints memory (binary units). */
static void bin_size(int64_t v, char *buf, size_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double d = (double)v;
    size_t u = 0;
    while (d >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        d /= 1024;
        u++;
    }
    snprintf(buf, n, "%.4g%s", d, units[u]);
}

static const char *yes_no(enum probe p)
{
    return p == PROBE_YES ? "yes" : p == PROBE_NO ? "no" : "unknown";
}

static json_t *j_probe(enum probe p)
{
    return p == PROBE_UNKNOWN ? json_null() : json_boolean(p == PROBE_YES);
}

static json_t *j_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *j_count(long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *j_bytes(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *j_strv(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void print_words(const char *key, char *const *v)
{
    printf(" %s:", key);
    for (size_t i = 0; v && v[i]; i++)
        printf(" %s", v[i]);
    putchar('\n');
}

static void print_count(const char *key, long v, const char *err)
{
    if (v >= 0)
        printf(" %s: %ld\n", key, v);
    else
        printf(" %s: unknown (%s)\n", key, err ? err : "unreadable");
}

static void print_text(const struct hostinfo *hi, const struct storeinfo *si)
{
    char b1[32], b2[32];
    printf("Version: %s\n", BERTH_VERSION);
    printf("Commit: %s\n", berth_commit);
    printf("Kernel Version: %s\n", hi->kernel);
    printf("Operating System: %s\n", hi->os ? hi->os : "unknown");
    printf("Architecture: %s\n", hi->arch);
    printf("CPUs: %ld\n", hi->ncpu);
    bin_size(hi->mem_total, b1, sizeof b1);
    printf("Total Memory: %s\n", b1);
    printf("User: uid %u, CAP_SYS_ADMIN %s\n", (unsigned)hi->euid, yes_no(hi->cap_sys_admin));

    printf("Cgroups:\n");
    if (hi->cg_ok) {
        printf(" Layout: %s\n", cgroup_sys_layout(&hi->cg));
        printf(" Driver: %s\n", hi->cg.unified ? "v2" : "v1");
        if (hi->cg.v2_root)
            printf(" Unified Mount: %s\n", hi->cg.v2_root);
        print_words("Controllers", hi->cg_available);
        print_words("Used", hi->cg_used);
    } else {
        printf(" Layout: none (%s)\n", hi->cg_error);
    }

    printf("Namespaces:\n");
    printf(" Container Namespaces: %s", hi->ns_unshare == PROBE_YES ? "yes" : "no");
    if (hi->ns_unshare != PROBE_YES)
        printf(" (%s)", strerror(hi->ns_unshare_errno));
    putchar('\n');
    if (hi->ns_missing && hi->ns_missing[0])
        print_words("Missing", hi->ns_missing);
    printf(" User Namespaces: %s (max %ld; used by userns_mode: auto)\n", yes_no(hi->userns),
           hi->max_user_namespaces);

    printf("Overlay:\n");
    printf(" Available: %s\n", yes_no(hi->overlay));
    printf(" metacopy: %s\n", hi->overlay_metacopy ? hi->overlay_metacopy : "unknown");
    printf(" redirect_dir: %s\n", hi->overlay_redirect_dir ? hi->overlay_redirect_dir : "unknown");
    printf(" index: %s\n", hi->overlay_index ? hi->overlay_index : "unknown");
    printf(" xino_auto: %s\n", hi->overlay_xino ? hi->overlay_xino : "unknown");
    printf(" lowerdir+: %s\n", hi->overlay_lowerdir_plus ? "yes" : "no");
    printf(" Idmapped Mounts: %s (used by userns_mode: auto)\n", yes_no(hi->idmapped_mounts));

    printf("Kernel Features:\n");
    printf(" clone3: %s\n", yes_no(hi->clone3));
    printf(" pidfd: %s\n", yes_no(hi->pidfd));
    printf(" openat2: %s\n", yes_no(hi->openat2));
    printf(" mount_setattr: %s\n", yes_no(hi->mount_api));
    printf(" CLONE_INTO_CGROUP: %s\n", yes_no(hi->clone_into_cgroup));
    printf(" Seccomp: %s (mode of berth itself %d, libseccomp API level %u)\n", yes_no(hi->seccomp),
           hi->seccomp_mode, hi->seccomp_api);
    printf(" nftables: %s", yes_no(hi->nftables));
    if (hi->nftables_detail)
        printf(" (%s)", hi->nftables_detail);
    printf(" (not used yet: berth publishes no ports)\n");

    printf("Store:\n");
    printf(" Root Dir: %s%s\n", si->path, si->exists ? "" : " (not created yet)");
    printf(" Run Dir: %s\n", si->runroot);
    printf(" Writable: %s", si->writable ? "yes" : "no");
    if (!si->writable && si->writable_error)
        printf(" (%s)", si->writable_error);
    putchar('\n');
    if (si->size >= 0) {
        bin_size(si->size, b1, sizeof b1);
        printf(" Size: %s (%" PRId64 " bytes)\n", b1, si->size);
    } else {
        printf(" Size: unknown (not all of it can be read)\n");
    }
    if (si->fs_free >= 0) {
        bin_size(si->fs_free, b1, sizeof b1);
        bin_size(si->fs_total, b2, sizeof b2);
        printf(" Free: %s of %s (%" PRId64 " bytes)\n", b1, b2, si->fs_free);
    }
    print_count("Images", si->images, si->images_error);
    print_count("Volumes", si->volumes, si->volumes_error);
    print_count("Projects", si->projects, si->containers_error);
    print_count("Containers", si->containers, si->containers_error);
    if (si->containers >= 0) {
        printf("  Running: %ld\n", si->running);
        printf("  Paused: %ld\n", si->paused);
        printf("  Stopped: %ld\n", si->stopped);
    }
}

static json_t *build_json(const struct hostinfo *hi, const struct storeinfo *si,
                          const struct hostcheck *checks, size_t n)
{
    json_t *cg =
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "layout",
                  hi->cg_ok ? json_string(cgroup_sys_layout(&hi->cg)) : json_null(),
                  "unified_mount", j_str(hi->cg.v2_root), "controllers", j_strv(hi->cg_available),
                  "used", j_strv(hi->cg_used), "error", j_str(hi->cg_error));
    json_t *v1 = json_object();
    for (int c = 0; c < CG_CTRL_MAX; c++)
        if (hi->cg.v1_root[c])
            json_object_set_new(v1, cgroup_ctrl_name((enum cgroup_ctrl)c),
                                json_string(hi->cg.v1_root[c]));
    json_object_set_new(cg, "v1_mounts", v1);

    json_t *ns =
        json_pack("{s:o, s:o, s:o, s:I}", "container_namespaces", j_probe(hi->ns_unshare),
                  "missing", j_strv(hi->ns_missing), "user_namespaces", j_probe(hi->userns),
                  "max_user_namespaces", (json_int_t)hi->max_user_namespaces);
    json_t *ov =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "available", j_probe(hi->overlay), "metacopy",
                  j_str(hi->overlay_metacopy), "redirect_dir", j_str(hi->overlay_redirect_dir),
                  "index", j_str(hi->overlay_index), "xino_auto", j_str(hi->overlay_xino),
                  "lowerdir_plus", hi->overlay_lowerdir_plus);
    json_t *feat =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:i, s:i}, s:{s:o, s:o}}", "clone3",
                  j_probe(hi->clone3), "pidfd", j_probe(hi->pidfd), "openat2", j_probe(hi->openat2),
                  "mount_setattr", j_probe(hi->mount_api), "clone_into_cgroup",
                  j_probe(hi->clone_into_cgroup), "idmapped_mounts", j_probe(hi->idmapped_mounts),
                  "seccomp", "available", j_probe(hi->seccomp), "mode", hi->seccomp_mode,
                  "api_level", (int)hi->seccomp_api, "nftables", "available", j_probe(hi->nftables),
                  "detail", j_str(hi->nftables_detail));
    json_t *st = json_pack(
        "{s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "path",
        si->path, "run_path", si->runroot, "exists", si->exists, "writable", si->writable,
        "writable_error", j_str(si->writable_error), "size", j_bytes(si->size), "free",
        j_bytes(si->fs_free), "total", j_bytes(si->fs_total), "images", j_count(si->images),
        "volumes", j_count(si->volumes), "projects", j_count(si->projects), "containers",
        j_count(si->containers), "running", j_count(si->running), "paused", j_count(si->paused),
        "stopped", j_count(si->stopped));
    json_t *errs = json_array(), *warns = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            checks[i].required ? errs : warns,
            json_pack("{s:s, s:s}", "key", checks[i].key, "message", checks[i].message));
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:o, s:o, s:b}",
                     "version", BERTH_VERSION, "commit", berth_commit, "kernel", hi->kernel, "os",
                     j_str(hi->os), "arch", hi->arch, "ncpu", (json_int_t)hi->ncpu, "mem_total",
                     (json_int_t)hi->mem_total, "euid", (json_int_t)hi->euid, "cap_sys_admin",
                     j_probe(hi->cap_sys_admin), "cgroup", cg, "namespaces", ns, "overlay", ov,
                     "features", feat, "store", st, "warnings", warns, "errors", errs,
                     "can_run_containers", json_array_size(errs) == 0);
}

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}

int cmd_info(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "info");
    bool json = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'f': {
            int k = cmd_parser_choice(&op, 'f', optarg); /* text json */
            if (k < 0)
                return 2;
            json = k == 1;
            break;
        }
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth: info: takes no arguments (\"%s\")\n", argv[optind]);
        return 2;
    }
    struct hostinfo hi;
    struct storeinfo si;
    hostinfo_probe(&hi);
    storeinfo_read(c->root, c->runroot, &si);
    size_t n = 0;
    struct hostcheck *checks = hostinfo_check(&hi, &si, &n);
    bool fatal = n > 0 && checks[0].required;
    if (json) {
        _cleanup_(cleanup_jsonp) json_t *j = build_json(&hi, &si, checks, n);
        _cleanup_free_ char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(txt ? txt : "{}");
    } else {
        print_text(&hi, &si);
    }
    fflush(stdout);
    /* As docker info: warnings after the report, on stderr. */
    for (size_t i = 0; i < n; i++)
        if (!checks[i].required)
            fprintf(stderr, "WARNING: %s\n", checks[i].message);
    if (fatal) {
        fprintf(stderr, "berth cannot run containers on this host: ");
        for (size_t i = 0, k = 0; i < n; i++)
            if (checks[i].required)
                fprintf(stderr, "%s%s", k++ ? "; " : "", checks[i].message);
        fputc('\n', stderr);
    }
    hostcheck_free(checks, n);
    storeinfo_free(&si);
    hostinfo_free(&hi);
    return fatal ? 1 : 0;
}
