/* SPDX-License-Identifier: Apache-2.0 */
/* The container's plan: everything the supervisor needs to start (and
 * restart) a container without the compose file, as engine/plan makes it
 * and the container record stores it; its JSON form and back. A plain
 * type below compose: the runtime's own limits, no compose model. Not
 * here: making a plan from a service (engine/plan/plan.h). */
#ifndef BERTH_RUNTIME_CTRPLAN_H
#define BERTH_RUNTIME_CTRPLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/cgroup.h"
#include "engine/runtime/ctrplan_files.h"
#include "net/shape.h"
#include "util/err.h"
#include "util/rlimits.h"

struct plan_health {
    bool enabled; /* there is a test to run */
    char **test;  /* argv to exec: CMD's arguments, or /bin/sh -c for CMD-SHELL */
    int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
    int retries;
};

enum plan_restart_policy {
    PLAN_RESTART_NO,
    PLAN_RESTART_ALWAYS,
    PLAN_RESTART_ON_FAILURE,
    PLAN_RESTART_UNLESS_STOPPED,
};

struct plan_restart {
    enum plan_restart_policy policy;
    int max_retries; /* on-failure:N; 0 = unlimited */
};

enum plan_dep_condition {
    PLAN_DEP_STARTED,
    PLAN_DEP_HEALTHY,
    PLAN_DEP_COMPLETED,
};

struct plan_depend {
    char *service;
    enum plan_dep_condition condition;
    bool required;
    bool restart;
};

enum plan_mount_type {
    PLAN_MOUNT_BIND,
    PLAN_MOUNT_VOLUME,
    PLAN_MOUNT_TMPFS,
};

struct plan_mount {
    enum plan_mount_type type;
    /* bind: absolute host path; volume: the volume's real name (an anonymous
     * volume's is 64 hex digits, derived from the container's name and the
     * target, so the container and its recreations reuse it); tmpfs: NULL */
    char *source;
    char *target; /* absolute, lexically clean path in the container */
    bool read_only;
    /* bind: create a missing host directory; volume: create a missing
     * volume (false for an external one, which must exist) */
    bool create_host_path;
    bool nocopy;         /* volume: do not seed a new volume from the image */
    int64_t tmpfs_size;  /* bytes, 0 = default */
    uint32_t tmpfs_mode; /* 0 = default */
};

/* One network the container joins, in connection order. */
struct plan_endpoint {
    char *network; /* the network's real name */
    /* More DNS names on this network: the file's aliases (the names links
     * give it are not here). NULL-terminated or NULL. */
    char **aliases;
    char *ipv4_address, *ipv6_address, *mac_address; /* as the file asks, or NULL */
    int gw_priority; /* the file's: the highest gives the default route */
    /* Filled when the container is created (from IPAM); NULL in a fresh
     * plan. */
    char *bridge, *addr4 /* "a.b.c.d/len" */, *gateway4, *addr6, *gateway6;
    bool internal; /* the network has no way out */
    /* The network's driver_opts, as its record keeps them */
    unsigned mtu;       /* 0: the host default route's */
    bool no_masquerade; /* no masquerade for its subnets */
    bool no_icc;        /* its containers cannot reach each other */
};

/* One published port; a range is one entry per container port. */
struct plan_port {
    int proto;     /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
    char *host_ip; /* NULL: every address */
    /* 0,0: a random port; a range with one container port: any free one
     * in it */
    uint16_t host_port, host_port_end;
    uint16_t ctr_port;
};

/* logging: zero values are the driver's defaults (logfile.h), so a plan
 * that sets nothing stores nothing. */
struct plan_logging {
    char *driver;     /* NULL: json-file; "local", "none", "syslog", "journald" */
    int64_t max_size; /* bytes; 0: the default; -1: unlimited */
    int max_file;     /* 0: the default */
    int compress;     /* 1 true, -1 false, 0 the driver's default */
    char *tag;        /* template ({{.Name}}, {{.ID}}...), or NULL */
};

/* A post_start or pre_stop hook: run as `exec` runs a command. */
struct plan_hook {
    char **argv;
    char *user;      /* NULL: the container's */
    char *cwd;       /* NULL: the container's */
    char **env;      /* added to the container's */
    bool privileged; /* as exec --privileged */
};

struct ctr_plan {
    char *name;     /* PROJECT-SERVICE-N */
    char *log_name; /* SERVICE-N, the log prefix */
    char **argv;
    char **env;
    char *cwd;
    char *user; /* NULL: root */
    char *hostname;
    bool read_only;
    bool tty;
    bool stdin_open;
    bool init;
    int64_t shm_size; /* bytes, 0 = Docker's default */
    struct cgroup_limits limits;
    int stop_signal;
    int64_t stop_grace_ns;
    char **layer_dirs; /* the image's, bottom first */
    struct plan_health health;
    struct plan_restart restart;
    struct plan_depend *depends;
    size_t n_depends;
    struct plan_mount *mounts;
    size_t n_mounts;
    char **labels; /* "key=value" */
    /* cap_add/cap_drop on Docker's default set (util/caps.h), and the
     * capabilities the file named (the runtime refuses one the kernel
     * lacks); security_opt no-new-privileges. */
    uint64_t caps;
    uint64_t caps_named;
    bool no_new_privs;

    /* Networking. */
    char *service; /* the compose service (DNS answers by its name) */
    /* NULL: the endpoints; "host"; "none"; "container:NAME" (the file's
     * service:X becomes X's first container's name). */
    char *network_mode;
    struct plan_endpoint *endpoints;
    size_t n_endpoints;
    struct plan_port *ports;
    size_t n_ports;
    char **expose;                                      /* "80/tcp" */
    char **dns, **dns_search, **dns_opt, **extra_hosts; /* extra_hosts: "name:ip" */
    char **links; /* "CONTAINER:ALIAS" (links and external_links resolved to names) */
    char *domainname;
    char *mac_address; /* the service's (docker: the first endpoint's) */

    /* Security beyond capabilities: privileged, seccomp profiles, LSM labels,
     * masked paths, supplementary groups, OOM settings (ctrplan_sec.h). */
    bool privileged;
    /* NULL: the default profile; "unconfined": no filter; else a
     * Docker-format profile's JSON text, read from seccomp_source */
    char *seccomp;
    char *seccomp_source;
    char *apparmor; /* the AppArmor profile to exec into, or NULL */
    bool systempaths_unconfined;
    char **mask, **unmask; /* more masked paths; paths left unmasked ("ALL") */
    char **group_add;      /* supplementary groups: names or numbers */
    int oom_score_adj;
    bool oom_score_adj_set;
    bool oom_kill_disable;

    /* Resources: CPU, memory, block I/O, devices and storage limits
     * (cgroup v1 and v2). All in limits above (struct cgroup_limits), so
     * that they reach the runtime with it; their JSON: ctrplan_res.c. */

    /* Process limits, kernel settings and namespaces: ulimits, sysctls,
     * pid, ipc, uts, cgroup, cgroup_parent. */
    struct ulimit *ulimits; /* util/rlimits.h; stored by Docker's names */
    size_t n_ulimits;
    char **sysctls; /* "key=value" */
    /* NULL: a private namespace; "host"; "container:NAME" (the file's
     * service:X made X's first container's name); ipc also "none" and
     * "shareable". */
    char *pid_mode, *ipc_mode;
    bool uts_host, cgroupns_host;
    char *cgroup_parent; /* the file's, relative to the cgroup root; NULL: berth's tree */

    /* Network shaping: berth's x-berth-network extension (bandwidth,
     * delay, jitter, loss). Not in the config text that decides
     * recreation: `up` applies a change to the running container. */
    struct net_shape shape;

    /* User namespaces: userns_mode and the ID range the container gets. */
    bool userns_auto; /* a user namespace with a range of its own (runtime/userns.h) */

    /* Files given to the container: configs, secrets, volumes_from; and
     * metadata keys (annotations, platform, runtime). */
    struct plan_file *files; /* engine/runtime/ctrplan_files.h */
    size_t n_files;
    char **volumes_from; /* "CONTAINER:ro" or "CONTAINER:rw" (service:X made its first's) */
    char **annotations;  /* "k=v" */

    /* Logging and lifecycle hooks: the logging driver and its options,
     * post_start/pre_stop, attach. */
    struct plan_logging logging;
    struct plan_hook *post_start, *pre_stop;
    size_t n_post_start, n_pre_stop;
    bool no_attach; /* attach: false: an attached up does not show its output */

    /* Canonical JSON of everything that shapes the container, with the
     * image ID: an existing container with the same text needs no recreate.
     * Compared as text, so `up` needs no digest on this path. */
    char *config;
};

void ctr_plan_free(struct ctr_plan *c);
/* A zero-initialised (or planned) struct ctr_plan freed when it leaves scope. */
#define _cleanup_ctr_plan_ _cleanup_(ctr_plan_free)

/* The plan as stored in the container record, and back. */
json_t *plan_to_json(const struct ctr_plan *c);
int plan_from_json(json_t *j, struct ctr_plan *out, struct berr *e);
/* o's string member k, copied (heap); NULL when absent or not a string.
 * For the readers of the records that hold a plan, too. */
char *plan_json_str(json_t *o, const char *k);
/* The string lists of a plan's JSON. plan_json_strv: v as an array ([] when
 * v is NULL or empty). plan_json_put_strv: o's member k set to v, left out
 * when v is NULL or empty (an optional member, so that a plan without it
 * keeps its config text). plan_json_strv_of: a's strings as a vector (empty
 * when a is not an array). plan_json_get_strv: o's member k as a vector;
 * NULL when absent or empty. */
json_t *plan_json_strv(char *const *v);
void plan_json_put_strv(json_t *o, const char *k, char *const *v);
char **plan_json_strv_of(json_t *a);
char **plan_json_get_strv(json_t *o, const char *k);
/* o's integer member k set to v, left out when v is 0 (an optional
 * member, as plan_json_put_strv). */
void plan_json_put_int(json_t *o, const char *k, int64_t v);

/* The procns group's part of a container spec from the plan (runtime.h):
 * ulimits, sysctls, namespace modes. A shared namespace
 * ("container:NAME") is looked up through find, which gives an fd the
 * spec then owns (a pidfd of that container's init) or fails naming it;
 * close them with plan_procns_spec_release after the start. */
struct container_spec;
typedef int (*plan_find_ctr_fn)(void *ctx, const char *name, int *pidfd, struct berr *e);
int plan_procns_spec(const struct ctr_plan *c, struct container_spec *spec, plan_find_ctr_fn find,
                     void *ctx, struct berr *e);
void plan_procns_spec_release(struct container_spec *spec);

/* The procns group's part of the plan (ctrplan_procns.c): written only
 * when not the default, so older records read back the same. */
void plan_procns_to_json(const struct ctr_plan *c, json_t *j);
int plan_procns_from_json(json_t *j, struct ctr_plan *out, struct berr *e);
void plan_procns_free(struct ctr_plan *c);

/* The resource limits beyond memory, cpus and pids (ctrplan_res.c), as a
 * "resources" member of the plan's JSON, written only when something is
 * set (so containers made before keep their config text); and back. */
void plan_res_to_json(const struct cgroup_limits *l, json_t *plan);
void plan_res_from_json(json_t *plan, struct cgroup_limits *l);

const char *plan_restart_name(enum plan_restart_policy p);
/* "tcp", "udp", "sctp" for IPPROTO_*; and back (-1 for anything else). */
const char *plan_proto_name(int proto);
int plan_proto_parse(const char *name);
const char *plan_condition_name(enum plan_dep_condition c);

/* The logging and hook fields (ctrplan_logs.c), each written only when
 * set; called by plan_to_json, plan_from_json and ctr_plan_free. */
void plan_logs_to_json(const struct ctr_plan *c, json_t *j);
void plan_logs_from_json(json_t *j, struct ctr_plan *out);
void plan_logs_free(struct ctr_plan *c);

#endif
