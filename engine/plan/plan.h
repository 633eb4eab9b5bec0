/* SPDX-License-Identifier: Apache-2.0 */
/* From the compose model and the image config to what a container runs:
 * command, environment, user, working directory, hostname, limits, stop
 * signal, healthcheck, restart policy, dependencies, mounts — everything the
 * supervisor needs to start (and restart) the container without the compose
 * file — and a canonical config that says whether an existing container
 * still matches. Mostly pure logic, unit-tested; the few reads of the host
 * are checks that must fail before anything is made (a seccomp profile's
 * file, the online CPUs of a cpuset, a device's node, the kernel's limits,
 * the subordinate ID files of userns_mode auto), each in the plan_* step
 * of its key group. */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <jansson.h>
#include <stdint.h>

#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/runtime/ctrplan.h"

#define STOP_GRACE_DEFAULT_NS (10LL * 1000 * 1000 * 1000)

/* Docker's healthcheck defaults. */
#define HEALTH_INTERVAL_DEFAULT_NS       (30LL * 1000 * 1000 * 1000)
#define HEALTH_TIMEOUT_DEFAULT_NS        (30LL * 1000 * 1000 * 1000)
#define HEALTH_START_INTERVAL_DEFAULT_NS (5LL * 1000 * 1000 * 1000)
#define HEALTH_RETRIES_DEFAULT           3

/* Fails (with a message naming the service) when there is nothing to run,
 * the image's StopSignal or healthcheck is invalid, or the service sets a
 * key berth does not honour yet whose absence would give the container
 * more privilege than the file asks for (compose_service_refused). */
int plan_container(const struct project *p, const struct service *s, const struct image *img,
                   int number, const char *container_id, struct ctr_plan *out, struct berr *e);

/* userns_mode: auto: marks the plan, and makes sure berth's subordinate
 * IDs exist (adding them on first use); the message names the service,
 * the key and its file:line (engine/plan/plan_userns.c). */
int plan_userns(const struct service *s, struct ctr_plan *out, struct berr *e);

/* Creates the volumes the project declares at the top level (volumes:)
 * in the volume store, checking external ones exist: volumes_create in
 * engine/volume/mounts.h says how. *created (may be NULL) receives the
 * names made now. */
int volumes_create_declared(const char *root, const struct project *p, char ***created,
                            struct berr *e);

/* The service's volumes: and tmpfs: as the plan's mounts (engine/plan/
 * mounts.c): volume keys become the volumes' real names, anonymous volumes
 * get theirs; then the image's VOLUMEs (img may be NULL) that no service
 * mount covers, as anonymous volumes. Targets on or under /proc or /sys,
 * or on /, are refused with a message naming the service and the target.
 * Called by plan_container (out->name must be set). */
int plan_mounts(const struct project *p, const struct service *s, const struct image *img,
                struct ctr_plan *out, struct berr *e);

/* The service's networking as the plan's (engine/plan/netplan.c): its
 * networks' real names in connection order, network_mode (service:X made
 * "container:" and X's first container's name), ports one per container
 * port, expose as "80/tcp", dns keys, extra_hosts, links and
 * external_links as "CONTAINER:ALIAS". Refuses (-ENOTSUP, naming the
 * service, the network and its place) a network whose driver is not
 * bridge. Called by plan_container. */
int plan_network(const struct project *p, const struct service *s, struct ctr_plan *out,
                 struct berr *e);

/* The service's ulimits, sysctls and namespaces as the plan's
 * (engine/plan/procnsplan.c): pid and ipc service:X made "container:" and
 * X's first container's name, uts: host gives the host's name. A ulimit
 * whose hard limit is above what berth can give (plan_ulimit_ceiling) is
 * refused here, naming file:line, the service and the key. Called by
 * plan_container. */
int plan_procns(const struct project *p, const struct service *s, struct ctr_plan *out,
                struct berr *e);
/* The highest hard limit of resource (RLIMIT_*) berth can give a
 * container, UINT64_MAX for none: its own hard limit, or, when it has
 * CAP_SYS_RESOURCE and may raise it, the kernel's bound (fs.nr_open for
 * open files). *raisable says which. */
uint64_t plan_ulimit_ceiling(int resource, bool *raisable);
/* The service's logging, post_start/pre_stop hooks and attach as the
 * plan's (engine/plan/plan_logs.c). Called by plan_container. */
void plan_logs(const struct service *s, struct ctr_plan *out);

/* The service's configs and secrets (each with its host file or its
 * content, target, owner and mode), volumes_from (service:X made X's first
 * container's name) and annotations, as the plan's (engine/plan/files.c).
 * An undefined or external config or secret, or an environment one whose
 * variable is unset, is an error naming the file:line and the service.
 * Called by plan_container. */
int plan_files(const struct project *p, const struct service *s, struct ctr_plan *out,
               struct berr *e);
/* The canonical config's form of the files: each content replaced by its
 * digest, so the config text never holds a secret (a changed content
 * still recreates the container, which then gets it). */
void plan_files_canonical(json_t *j);

/* The service's resource keys as the plan's limits (engine/plan/
 * plan_res.c), checked against this host before anything is made: a
 * cpuset CPU that is not online, a blkio_config path that is not a block
 * device, a devices host path that is not a device node, a
 * device_cgroup_rules entry Docker would not take: -EINVAL naming the
 * file:line, the service, the key and the value; a setting this host's
 * cgroups or the store's file system cannot enforce: -ENOTSUP. */
int plan_resources(const struct service *s, const struct image *img, struct ctr_plan *out,
                   struct berr *e);

/* Where the host lists its online CPUs; tests point it elsewhere. */
#define PLAN_CPU_ONLINE "/sys/devices/system/cpu/online"

#endif
