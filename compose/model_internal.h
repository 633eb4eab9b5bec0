/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the files that build the typed model (model.c, model_run.c):
 * the build context and the value helpers, each of which reports a wrong
 * value as "file:line:col: service "web": key: message" and returns NULL or
 * a negative code. */
#ifndef BERTH_COMPOSE_MODEL_INTERNAL_H
#define BERTH_COMPOSE_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "compose/arena.h"
#include "compose/compose.h"
#include "compose/diag.h"
#include "compose/envtab.h"
#include "compose/yaml.h"

struct model {
    struct arena *a;
    const struct envtab *env;
    struct project *p;
    struct diag *d;
    const char *home;         /* for "~" in bind sources; NULL when unknown */
    const struct ynode *body; /* the service being built */
    const struct ynode *root; /* the canonical project (top-level secrets) */
    const char *kind;         /* what messages name: NULL for "service", "volume"... */
};

void svc_error(struct model *m, const struct service *s, const struct ynode *at, const char *key,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct srcpos pos_of(const struct model *m, const struct ynode *n);

/* Strings and numbers as written; NULL after an error for anything else. */
const char *want_string(struct model *m, const struct service *s, const char *key,
                        const struct ynode *v);
/* YAML booleans, or the strings Go's strconv.ParseBool accepts. */
int want_bool(struct model *m, const struct service *s, const char *key, const struct ynode *v,
              bool *out);
/* Whole numbers, also as decimal strings (interpolated values). */
int want_int(struct model *m, const struct service *s, const char *key, const struct ynode *v,
             int64_t min, int64_t *out);
/* Sizes ("512m") or whole numbers of bytes. */
int want_size(struct model *m, const struct service *s, const char *key, const struct ynode *v,
              int64_t *out);
/* Non-negative Go durations ("1m30s"). */
int want_duration(struct model *m, const struct service *s, const char *key, const struct ynode *v,
                  int64_t *out);
/* A number of CPUs (0.5, "1.5"). */
int want_cpus(struct model *m, const struct service *s, const char *key, const struct ynode *v,
              double *out);
/* A mapping or a "KEY=VALUE" list as "k=v" strings (null values as ""). */
int want_kv_list(struct model *m, const struct service *s, const char *key, const struct ynode *v,
                 char ***out);
/* A list of strings (a single string is a list of one when allow_one). */
int want_str_list(struct model *m, const struct service *s, const char *key, const struct ynode *v,
                  bool allow_one, char ***out);

/* A value berth cannot honour yet whose absence could give the container
 * more (or other) privilege than the file asks for: warned about at its
 * place, and the service is refused at up and run (model.c). */
void refuse(struct model *m, struct service *s, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A value berth cannot give at all (runtime: another one, use_api_socket:
 * true), with a message of its own: not warned about here; up and run
 * refuse the service with "file:line:col: service "NAME": MESSAGE",
 * before any of refuse()'s. */
void refuse_own(struct model *m, struct service *s, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A top-level definition's problem: "file:line:col: message". */
void top_error(struct model *m, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A string for a top-level definition's key; NULL after reporting. */
const char *top_string(struct model *m, const char *what, const struct ynode *v);

/* Runtime keys (model_run.c). */
void key_volumes(struct model *m, struct service *s, const struct ypair *kv);
void key_tmpfs(struct model *m, struct service *s, const struct ypair *kv);
void key_depends_on(struct model *m, struct service *s, const struct ypair *kv);
void key_healthcheck(struct model *m, struct service *s, const struct ypair *kv);
void key_restart(struct model *m, struct service *s, const struct ypair *kv);
void key_deploy(struct model *m, struct service *s, const struct ypair *kv);
void build_volume_defs(struct model *m, const struct ynode *volumes);

/* Resource keys (model_res.c); finish_resources after every key of the
 * service (rules across keys). */
void key_cpu_shares(struct model *m, struct service *s, const struct ypair *kv);
void key_cpu_quota(struct model *m, struct service *s, const struct ypair *kv);
void key_cpu_period(struct model *m, struct service *s, const struct ypair *kv);
void key_cpu_rt_runtime(struct model *m, struct service *s, const struct ypair *kv);
void key_cpu_rt_period(struct model *m, struct service *s, const struct ypair *kv);
void key_cpuset(struct model *m, struct service *s, const struct ypair *kv);
void key_mem_reservation(struct model *m, struct service *s, const struct ypair *kv);
void key_memswap_limit(struct model *m, struct service *s, const struct ypair *kv);
void key_mem_swappiness(struct model *m, struct service *s, const struct ypair *kv);
void key_blkio_config(struct model *m, struct service *s, const struct ypair *kv);
void key_devices(struct model *m, struct service *s, const struct ypair *kv);
void key_device_cgroup_rules(struct model *m, struct service *s, const struct ypair *kv);
void key_storage_opt(struct model *m, struct service *s, const struct ypair *kv);
void deploy_resources(struct model *m, struct service *s, const struct ynode *resources);
void finish_resources(struct model *m, struct service *s);
void svc_res_clear(struct svc_res *r);

/* build: (model_build.c); finish_build after every key of the service. */
void key_build(struct model *m, struct service *s, const struct ypair *kv);
void finish_build(struct model *m, struct service *s);
void svc_build_free(struct svc_build *b);

/* Security keys beyond capabilities (model_sec.c). */
void key_privileged(struct model *m, struct service *s, const struct ypair *kv);
void key_security_opt(struct model *m, struct service *s, const struct ypair *kv);
void key_group_add(struct model *m, struct service *s, const struct ypair *kv);
void key_oom_score_adj(struct model *m, struct service *s, const struct ypair *kv);
void key_oom_kill_disable(struct model *m, struct service *s, const struct ypair *kv);
void service_sec_clear(struct service *s);

/* Network keys (model_net.c). */
void key_networks(struct model *m, struct service *s, const struct ypair *kv);
void key_network_mode(struct model *m, struct service *s, const struct ypair *kv);
void key_ports(struct model *m, struct service *s, const struct ypair *kv);
void key_expose(struct model *m, struct service *s, const struct ypair *kv);
void key_dns(struct model *m, struct service *s, const struct ypair *kv);
void key_dns_search(struct model *m, struct service *s, const struct ypair *kv);
void key_dns_opt(struct model *m, struct service *s, const struct ypair *kv);
void key_extra_hosts(struct model *m, struct service *s, const struct ypair *kv);
void key_links(struct model *m, struct service *s, const struct ypair *kv);
void key_external_links(struct model *m, struct service *s, const struct ypair *kv);
void key_mac_address(struct model *m, struct service *s, const struct ypair *kv);
void key_domainname(struct model *m, struct service *s, const struct ypair *kv);
/* Process limits, kernel settings and namespaces (model_procns.c);
 * finish_procns after every key of the service. */
void key_ulimits(struct model *m, struct service *s, const struct ypair *kv);
void key_sysctls(struct model *m, struct service *s, const struct ypair *kv);
void key_pid(struct model *m, struct service *s, const struct ypair *kv);
void key_ipc(struct model *m, struct service *s, const struct ypair *kv);
void key_uts(struct model *m, struct service *s, const struct ypair *kv);
void key_cgroup(struct model *m, struct service *s, const struct ypair *kv);
void key_cgroup_parent(struct model *m, struct service *s, const struct ypair *kv);
void finish_procns(struct model *m, struct service *s);
/* Once every service is read: an ipc service:NAME or container:NAME of
 * the project must name one with ipc: shareable, as Docker requires. */
void model_procns_shared(struct model *m, const struct ynode *services);
void service_procns_clear(struct service *s);

/* compose/model_shape.c: berth's x-berth-network extension; finish_shape
 * checks it against network_mode once every key is read. */
void key_x_berth_network(struct model *m, struct service *s, const struct ypair *kv);
void finish_shape(struct model *m, struct service *s);

/* The top-level networks, then which of them services join. */
void build_network_defs(struct model *m, const struct ynode *networks);
void mark_used_networks(struct project *p);
void service_net_clear(struct service *s);
void network_defs_clear(struct project *p);

/* Logging, hooks and attach (model_logs.c). */
void key_logging(struct model *m, struct service *s, const struct ypair *kv);
void key_post_start(struct model *m, struct service *s, const struct ypair *kv);
void key_pre_stop(struct model *m, struct service *s, const struct ypair *kv);
void key_attach(struct model *m, struct service *s, const struct ypair *kv);
void service_logs_clear(struct service *s);

#endif
