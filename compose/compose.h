/* SPDX-License-Identifier: Apache-2.0 */
/* The compose module's only door: find, read and validate compose files into
 * a typed project model. Knows nothing of containers. */
#ifndef BERTH_COMPOSE_H
#define BERTH_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compose/netopts.h"
#include "util/caps.h"
#include "util/err.h"

struct compose_opts {
    char **files;             /* -f values in order, NULL-terminated; NULL: discover */
    const char *project_name; /* -p, or NULL */
    const char *project_dir;  /* --project-directory, or NULL */
    char **environ;           /* the process environment (COMPOSE_PROJECT_NAME, ...) */
    /* --env-file values in order (relative to cwd), NULL-terminated; NULL:
     * the project directory's .env, unless COMPOSE_DISABLE_ENV_FILE. */
    char **env_files;
    char **profiles;     /* --profile values; NULL-terminated or NULL */
    char **services;     /* services named on the command line (enable their profiles) */
    bool no_interpolate; /* leave ${VAR} as written (config --no-interpolate) */
    /* Say nothing of keys not supported yet (config: it runs nothing). */
    bool quiet_unsupported;
    const char *cwd; /* where discovery starts; NULL: getcwd() */
    /* Receives each warning (one line, no newline, already prefixed with
     * "file:line:col: " where it has a place); NULL: log_warn on stderr. */
    void (*warn)(void *userdata, const char *msg);
    void *warn_userdata;
};

/* Size cap of one compose file, unless BERTH_MAX_COMPOSE_BYTES (in
 * compose_opts.environ; "64m" style sizes accepted) says otherwise. */
#define COMPOSE_MAX_BYTES_DEFAULT (16 * 1024 * 1024)

/* Where a value came from, for messages: "compose.yaml:12:5". */
struct srcpos {
    const char *file; /* points into project->files */
    int line, col;    /* 1-based */
};

/* --- Runtime-facing shapes of compose keys (long syntax, defaults applied) --- */

enum restart_policy { RESTART_NO, RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_UNLESS_STOPPED };

struct svc_restart {
    enum restart_policy policy;
    int max_retries; /* on-failure:N, 0 = unlimited */
    int64_t delay_ns;
    int64_t window_ns; /* from deploy.restart_policy, -1 = unset */
};

enum dep_condition { DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED };

struct svc_depend {
    char *service;
    enum dep_condition condition;
    bool restart;
    bool required;
    struct srcpos pos;
};

struct svc_healthcheck {
    bool set;
    bool disable;
    char **test; /* ["CMD", args...] or ["CMD-SHELL", "cmd"]; NULL: inherit the image's */
    int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns; /* -1 = not set */
    int retries;                                                         /* -1 = not set */
};

enum mount_type { MOUNT_BIND, MOUNT_VOLUME, MOUNT_TMPFS };

struct svc_mount {
    enum mount_type type;
    /* bind: absolute host path resolved against the project dir (~ expanded);
     * volume: the top-level volume key, NULL for an anonymous volume;
     * tmpfs: NULL */
    char *source;
    char *target; /* absolute path in the container */
    bool read_only;
    bool create_host_path; /* bind: short syntax creates a missing host dir, as docker does */
    char *propagation;     /* bind: "rprivate", "shared"...; NULL = default */
    bool nocopy;           /* volume: don't copy the image's content in */
    int64_t tmpfs_size;    /* bytes, 0 = default */
    uint32_t tmpfs_mode;   /* 0 = default */
    struct srcpos pos;
};

struct volume_def {
    char *key;
    char *name; /* the real name: PROJECT_key unless name:/external */
    bool external;
    char *driver;
    char **labels; /* "k=v" */
    struct srcpos pos;
};

/* One ports entry (long syntax; a short "8000-8001:80-81" is one entry
 * per target port by then). */
struct svc_port {
    char *host_ip; /* NULL: every host address */
    /* 0,0: a random host port; a range (any free port in it) when
     * published_end > published */
    uint16_t published, published_end;
    uint16_t target, target_end; /* target_end == target for one port */
    int proto;                   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
    char *mode;                  /* "ingress" (the default) or "host" */
    char *name, *app_protocol;   /* NULL when not set */
    struct srcpos pos;
};

/* One network a service joins. */
struct svc_network {
    char *key;                                       /* the top-level networks key */
    char **aliases;                                  /* NULL-terminated or NULL */
    char *ipv4_address, *ipv6_address, *mac_address; /* NULL when not set */
    int priority, gw_priority;
    struct srcpos pos;
};

struct network_ipam_config {
    char *subnet, *gateway, *ip_range; /* NULL when not set */
    char **aux_addresses;              /* "name=ip" (inside subnet), NULL-terminated or NULL */
    struct srcpos pos;
};

struct network_def {
    char *key;  /* "default", "front" */
    char *name; /* the real name: PROJECT_key unless name: (external: name: or the key) */
    bool external, internal, attachable, enable_ipv6;
    bool enable_ipv4;    /* default true */
    char *driver;        /* NULL: bridge */
    char **driver_opts;  /* "k=v", NULL-terminated or NULL */
    struct netopts opts; /* what berth makes of the driver_opts it honours */
    /* The first driver_opts entry (or enable_ipv4: false) berth refuses to
     * ignore, said when a service joins the network (plan_container);
     * NULL when none. */
    char *refused;
    struct srcpos refused_pos;
    char **labels;     /* "k=v", NULL-terminated or NULL */
    char *ipam_driver; /* NULL: the default */
    struct network_ipam_config *ipam;
    size_t n_ipam;
    bool used; /* some service of the project joins it (compose makes only used ones) */
    struct srcpos pos;
};

/* logging: (compose/model_logs.c). Zero values are the driver's defaults. */
struct svc_logging {
    char *driver;      /* "json-file" (NULL: not set), "local", "none", "syslog", "journald" */
    int64_t max_size;  /* options.max-size, bytes; 0: the default; -1: unlimited */
    int max_file;      /* options.max-file; 0: the default */
    int compress;      /* options.compress: 1 true, -1 false, 0 not set */
    char *tag;         /* options.tag (a template), or NULL */
    struct srcpos pos; /* the driver's place */
};

/* One post_start or pre_stop hook. */
struct svc_hook {
    char **command; /* argv (a string is split into words as command: is) */
    char *user, *working_dir;
    char **environment; /* "K=V" */
    bool privileged;    /* every capability and no seccomp filter, as exec --privileged */
};

/* A service's build: section (long syntax; paths absolute). */
struct svc_build {
    char *context;           /* absolute directory, or the URL as written when remote */
    bool remote;             /* an URL or git context: berth builds local directories only */
    char *dockerfile;        /* absolute path; NULL with dockerfile_inline or remote */
    char *dockerfile_inline; /* the Dockerfile's text, or NULL */
    char **args;             /* "K=V" (bare ones resolved at load), or NULL */
    char *target;
    char **labels; /* "K=V" */
    char **tags;   /* more references for the image */
    char *network;
    int64_t shm_size;   /* bytes; 0: the builder's default */
    char **extra_hosts; /* "name:ip" */
    char **platforms;   /* as written; NULL: this host's */
    struct srcpos platforms_pos;
    bool pull, no_cache;
    char **secrets; /* "id=ID,src=PATH" or "id=ID,env=VAR" */
    /* A key berth will not build with (privileged: true, ...): building
     * the service fails naming it; NULL when none. */
    char *refused;
    struct srcpos refused_pos;
    struct srcpos pos; /* the build key */
    /* (The places here name the file as messages do, "compose.yaml".) */
};

/* blkio_config per-device settings (struct svc_res). */
enum { SVC_IO_WEIGHT, SVC_IO_RBPS, SVC_IO_WBPS, SVC_IO_RIOPS, SVC_IO_WIOPS };

struct service {
    char *name;
    struct srcpos pos; /* the service's key */
    /* NULL when absent; with build: and no image:, the default name
     * PROJECT-SERVICE (lowercase) as docker compose gives it */
    char *image;
    bool image_default;      /* image is that default name (the file names none) */
    bool has_build;          /* a build: section (what `push` pushes) */
    struct svc_build *build; /* the build: section read, or NULL */
    bool pull_build;         /* pull_policy: build (built at every up and run) */
    struct srcpos image_pos;
    bool pull_never;   /* pull_policy: never (a missing image is an error) */
    bool pull_always;  /* pull_policy: always (pulled at up/run even when present) */
    bool pull_missing; /* pull_policy: missing or if_not_present, set in the file */
    /* pull_policy: daily, weekly, every_<duration>: the image is pulled when
     * it was last pulled longer ago than this (ns); 0 = no schedule. */
    int64_t pull_refresh_ns;
    char *platform; /* normalized "os/arch[/variant]"; NULL when not set */
    char **command; /* NULL-terminated argv; NULL when not set */
    bool command_set;
    char **entrypoint;
    bool entrypoint_set;
    /* "KEY=VALUE" entries in file order; a bare "KEY" is resolved from the
     * environment at load time, or dropped when unset there. */
    char **environment;
    char *working_dir;
    char *user;
    char *hostname;
    int64_t mem_limit;     /* bytes; 0 = not set */
    double cpus;           /* 0 = not set */
    int64_t pids_limit;    /* 0 = not set; -1 = unlimited */
    int stop_signal;       /* 0 = not set */
    int64_t stop_grace_ns; /* -1 = not set */
    bool tty;
    bool read_only;

    struct svc_mount *mounts; /* volumes: and tmpfs: together, in file order */
    size_t n_mounts;
    struct svc_depend *depends_on;
    size_t n_depends;
    struct svc_healthcheck healthcheck;
    struct svc_restart restart;
    int replicas; /* scale / deploy.replicas, default 1 */
    char *container_name;
    char **labels; /* "k=v" */
    char **profiles;
    bool init;
    bool stdin_open;
    int64_t shm_size; /* 0 = default */

    /* Security keys. */
    struct caps_list cap_add, cap_drop; /* names checked at load */
    bool no_new_privs;                  /* security_opt: no-new-privileges[:true] */
    /* What the service sets that berth does not honour yet and whose
     * absence could leave the container more privilege or exposure than
     * the file asks for ("ulimits", "security_opt seccomp=x.json"), or
     * cannot give at all (own: what is the whole message, "runtime \"x\"
     * is not available: ..."): such a service is never started
     * (compose_service_refused). */
    struct svc_refused {
        char *what;
        struct srcpos pos;
        bool own;
    } * refused;
    size_t n_refused;

    /* Network keys. */
    char *network_mode; /* NULL: networks below; "host", "none", "service:NAME", "container:NAME" */
    /* In connection order: priority descending, then key (compose-go's
     * NetworksByPriority); a service with neither networks nor
     * network_mode has the one entry "default". */
    struct svc_network *networks;
    size_t n_networks;
    struct svc_port *ports;
    size_t n_ports;
    char **expose; /* canonical "80", "8000-8010/udp" */
    char **dns, **dns_search, **dns_opt;
    char **extra_hosts;    /* "name:ip" (compose's "name=ip" and "name:ip" both taken) */
    char **links;          /* "SERVICE:ALIAS" (the alias is the service when none is given) */
    char **external_links; /* "CONTAINER:ALIAS" */
    char *mac_address, *domainname;

    /* Security beyond capabilities: privileged, seccomp profiles, LSM labels,
     * masked paths, supplementary groups, OOM settings. */
    bool privileged;
    /* security_opt seccomp=: NULL the default profile, "unconfined" none,
     * else the profile's absolute path (read when the container is
     * planned); seccomp_pos is the entry's place, for messages */
    char *seccomp;
    struct srcpos seccomp_pos;
    char *apparmor; /* security_opt apparmor=PROFILE; NULL: none asked */
    struct srcpos apparmor_pos;
    char *label; /* the last security_opt label=... other than disable, as written */
    struct srcpos label_pos;
    bool systempaths_unconfined; /* security_opt systempaths=unconfined */
    char **mask;                 /* security_opt mask=/a:/b: more masked paths */
    char **unmask;               /* security_opt unmask=/a:/b, or "ALL" */
    char **group_add;            /* names or numbers, as written */
    int oom_score_adj;           /* -1000..1000 */
    bool oom_score_adj_set;
    bool oom_kill_disable;

    /* Resources: CPU, memory, block I/O, devices and storage limits
     * (cgroup v1 and v2). Zero is "not set" for each (compose/model_res.c;
     * the limits keys above and deploy.resources fill mem_limit, cpus and
     * pids_limit). Positions name the file as messages do. */
    struct svc_res {
        int64_t cpu_shares, cpu_quota, cpu_period; /* µs; cpu_quota -1: unlimited */
        int64_t cpu_rt_runtime, cpu_rt_period;     /* µs */
        char *cpuset;                              /* "0-1,3", syntax checked */
        struct srcpos cpuset_pos;
        int64_t mem_reservation; /* bytes */
        int64_t memswap_limit;   /* bytes of memory and swap; -1: unlimited swap */
        int mem_swappiness;      /* 0..100 when mem_swappiness_set */
        bool mem_swappiness_set;
        unsigned blkio_weight; /* 10..1000 */
        /* blkio_config's per-device settings in file order; kind:
         * SVC_IO_* (weight_device, device_read_bps ...) */
        struct svc_io {
            char *path;
            int kind;
            uint64_t value;
            struct srcpos pos;
        } * io;
        size_t n_io;
        struct svc_device { /* devices: */
            char *host, *ctr;
            char perms[4]; /* of "rwm" */
            struct srcpos pos;
        } * devices;
        size_t n_devices;
        struct svc_dev_rule { /* device_cgroup_rules, checked by the runtime's parser at up */
            char *rule;
            struct srcpos pos;
        } * dev_rules;
        size_t n_dev_rules;
        int64_t storage_size; /* storage_opt size, bytes */
        struct srcpos storage_pos;
    } res;

    /* Process limits, kernel settings and namespaces: ulimits, sysctls,
     * pid, ipc, uts, cgroup, cgroup_parent. */
    struct svc_ulimit {
        char *name;         /* Docker's: "nofile", "nproc", ... (checked at load) */
        int64_t soft, hard; /* -1: unlimited */
        struct srcpos pos;  /* the entry, for the hard-limit check at up and run */
    } * ulimits;
    size_t n_ulimits;
    char **sysctls; /* "key=value", namespaced ones only (checked at load) */
    /* NULL: a private namespace; else "host", "service:NAME",
     * "container:NAME"; ipc also "none" and "shareable". */
    char *pid, *ipc;
    bool uts_host;       /* uts: host */
    bool cgroup_host;    /* cgroup: host (no cgroup namespace) */
    char *cgroup_parent; /* relative to the cgroup root, no leading "/"; NULL: berth's */

    /* Network shaping: berth's x-berth-network extension (bandwidth,
     * delay, jitter, loss). */
    struct svc_shape {
        bool set;              /* the key is there and asks for something */
        uint64_t egress_bits;  /* what the container sends, bits/s; 0: no limit */
        uint64_t ingress_bits; /* what it receives, bits/s; 0: no limit */
        uint64_t delay_us;     /* netem on what it sends; 0: none */
        uint64_t jitter_us;    /* with delay */
        double loss_pct;       /* 0 to 100; 0: none */
    } shape;

    /* User namespaces: userns_mode and the ID range the container gets. */
    bool userns_auto;         /* userns_mode: auto */
    struct srcpos userns_pos; /* where userns_mode is set, for messages */

    /* Files given to the container: configs, secrets, volumes_from; and
     * metadata keys (annotations, platform, runtime). */
    struct svc_file_ref *files; /* configs: then secrets:, in file order */
    size_t n_files;
    /* "service:NAME[:ro|:rw]" or "container:NAME[:ro|:rw]" (a bare NAME is
     * a service), in file order */
    char **volumes_from;
    char **annotations;       /* "k=v" */
    char **label_file_labels; /* "k=v" read from label_file (labels: wins) */

    /* Logging and lifecycle hooks: the logging driver and its options,
     * post_start/pre_stop, attach. */
    struct svc_logging logging;
    struct svc_hook *post_start, *pre_stop; /* in file order */
    size_t n_post_start, n_pre_stop;
    bool no_attach; /* attach: false */
};

/* A top-level config or secret (compose/model_files.c). */
struct file_def {
    char *key;
    char *file;        /* file: an absolute host path, or NULL */
    char *environment; /* environment: the variable's name, or NULL */
    /* content: (configs) as written, or the environment variable's value
     * (NULL when it is unset: an error when a container needs it) */
    char *content;
    bool external; /* external: true (berth has no swarm to hold it) */
    struct srcpos pos;
};

/* A service's configs: or secrets: entry (long syntax, defaults applied). */
struct svc_file_ref {
    bool secret;  /* a secret (else a config) */
    char *source; /* the top-level key */
    char *target; /* absolute path in the container */
    uint32_t uid, gid;
    uint32_t mode; /* default 0444 */
    struct srcpos pos;
};

struct compose_tree;

struct project {
    char *name;        /* normalized project name */
    char *working_dir; /* absolute project directory */
    char **files;      /* absolute paths of the files read, in order */
    char **file_names; /* the same files as named in messages ("compose.yaml") */
    struct service *services;
    size_t n_services; /* in file order */
    struct volume_def *volumes;
    size_t n_volumes;
    /* Every top-level network, plus "default" (PROJECT_default) when some
     * service uses it; in the order of the networks mapping. */
    struct network_def *networks;
    size_t n_networks;
    /* Indexes into services in start order: dependencies first, file order
     * among services that don't depend on each other. */
    size_t *start_order;
    /* Top-level configs and secrets (compose/model_files.c). */
    struct file_def *configs, *secrets;
    size_t n_configs, n_secrets;
    struct compose_tree *tree; /* private: the canonical tree (compose_config_*) */
};

int compose_load(const struct compose_opts *o, struct project **out, struct berr *e);

/* Longest project name berth takes: it is part of paths under the run root
 * (the control socket's must fit in sun_path) and of container names. */
#define COMPOSE_PROJECT_NAME_MAX 64

/* Checks a project name given explicitly (-p, COMPOSE_PROJECT_NAME) before
 * any path is formed from it: docker compose's rule ^[a-z0-9][a-z0-9_-]*$
 * and at most COMPOSE_PROJECT_NAME_MAX characters. from: where it came
 * from for the message ("COMPOSE_PROJECT_NAME"), or NULL for -p. Fills e
 * with docker compose's message (-EINVAL). */
int compose_project_name_check(const char *name, const char *from, struct berr *e);

/* Docker's rule for container names, [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at most
 * 255 characters): no "/", so never a path of its own. */
bool compose_container_name_valid(const char *name);

void project_free(struct project *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct project *, project_free)
#define _cleanup_project_ _cleanup_(project_freep)
const struct service *project_service(const struct project *p, const char *name);
const struct network_def *project_network(const struct project *p, const char *key);

/* Whether berth honours a service key at run time yet (the one table of
 * service keys, compose/model.c). */
bool compose_service_key_honoured(const char *key);

/* Fail closed: 0 when berth can run the service as its file asks; else
 * -EPERM with "file:line:col: service "web": KEY is not supported yet ..."
 * naming the first key berth would have to ignore at more privilege than
 * asked for. `up` and `run` call it (through plan_container) before
 * making anything; `config` does not. */
int compose_service_refused(const struct service *s, struct berr *e);

/* --- The resolved project as `docker compose config` prints it ----------- */

enum compose_format { COMPOSE_FORMAT_YAML, COMPOSE_FORMAT_JSON };

/* The canonical project (every key in long syntax, defaults applied,
 * durations and sizes normalized, keys in compose's order), limited to the
 * given services and their dependencies when only is non-NULL. A "$" is
 * printed "$$" unless the project was loaded with no_interpolate, so the
 * output loads back to the same project. Heap string. */
char *compose_config_text(const struct project *p, enum compose_format f, char *const *only);
/* The same text written to out as it is made (a big project's output is
 * never held whole); write errors are left in out's error flag. */
void compose_config_write(const struct project *p, enum compose_format f, char *const *only,
                          FILE *out);

/* A service's config hash: sha256 (64 hex digits) of its canonical JSON
 * without build, pull_policy, scale, deploy.replicas, depends_on and
 * profiles, as docker compose computes its com.docker.compose.config-hash:
 * a change of anything else means the container must be recreated.
 * Returns 0, or -ENOENT for an unknown service. */
int compose_service_hash(const struct project *p, const char *service, char out[65]);

/* The keys of a top-level section ("networks", "volumes", "configs",
 * "secrets") of the resolved project, sorted; a heap vector. */
char **compose_top_level_names(const struct project *p, const char *section);

/* Every profile any service names (enabled or not), sorted; NULL-terminated. */
char *const *compose_all_profiles(const struct project *p);

#endif
