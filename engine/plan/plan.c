/* SPDX-License-Identifier: Apache-2.0 */
/* A container's plan from a service and its image config: Docker's rules for
 * entrypoint, command, environment, user, workdir, stop signal, healthcheck,
 * restart and caps, and the plan's JSON form kept in the container record. Not
 * here: mounts (engine/plan/mounts.c), networking (engine/plan/netplan.c), starting anything
 * (engine/runtime/, engine/supervise/). */
#include "engine/plan/plan.h"
#include "engine/plan/plan_sec.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/caps.h"
#include "util/cleanup.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The default hostname is the container ID, which is new for every
 * container: use the compose value instead, so it cannot force a recreate;
 * the layer paths stand for the image ID. */
static char *canonical_config(const struct ctr_plan *c, const struct image *img,
                              const char *hostname)
{
    json_t *j = plan_to_json(c);
    json_object_del(j, "name");
    json_object_del(j, "log_name");
    json_object_del(j, "layers");
    json_object_del(j, "service"); /* the name says it */
    json_object_del(j, "shape");   /* `up` changes it in place */
    json_object_set_new(j, "hostname", json_string(hostname));
    json_object_set_new(j, "image", json_string(img->id));
    plan_files_canonical(j);
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return text;
}

/* Docker's rules: the compose healthcheck's fields win, the image's fill
 * what it leaves out; ["NONE"] (or disable) turns it off; CMD-SHELL runs
 * through /bin/sh -c. */
static int plan_health(const struct service *s, const struct image *img, struct plan_health *h,
                       struct berr *e)
{
    const struct svc_healthcheck *hc = &s->healthcheck;
    memset(h, 0, sizeof *h);
    if (hc->set && hc->disable)
        return 0;
    char **test = hc->set && hc->test ? hc->test : img->health_test;
    if (!test || !test[0] || strcmp(test[0], "NONE") == 0)
        return 0;
    if (strcmp(test[0], "CMD") == 0) {
        if (!test[1])
            return berr_set(e, -EINVAL, "healthcheck: CMD without a command");
        h->test = strv_dup(test + 1);
    } else if (strcmp(test[0], "CMD-SHELL") == 0) {
        if (!test[1])
            return berr_set(e, -EINVAL, "healthcheck: CMD-SHELL without a command");
        strv_push(&h->test, xstrdup("/bin/sh"));
        strv_push(&h->test, xstrdup("-c"));
        strv_push(&h->test, xstrdup(test[1]));
    } else {
        return berr_set(e, -EINVAL,
                        "healthcheck: test must start with CMD, CMD-SHELL or NONE, not \"%s\"",
                        test[0]);
    }
    h->enabled = true;
    /* Each setting: the compose file's, else the image's, else Docker's. */
    struct {
        int64_t compose, image, def;
        int64_t *out;
    } d[] = {
        {hc->set ? hc->interval_ns : -1, img->health_interval_ns, HEALTH_INTERVAL_DEFAULT_NS,
         &h->interval_ns},
        {hc->set ? hc->timeout_ns : -1, img->health_timeout_ns, HEALTH_TIMEOUT_DEFAULT_NS,
         &h->timeout_ns},
        {hc->set ? hc->start_period_ns : -1, img->health_start_period_ns, 0, &h->start_period_ns},
        {hc->set ? hc->start_interval_ns : -1, img->health_start_interval_ns,
         HEALTH_START_INTERVAL_DEFAULT_NS, &h->start_interval_ns},
    };
    for (size_t i = 0; i < ARRAY_SIZE(d); i++)
        *d[i].out = d[i].compose > 0 ? d[i].compose : d[i].image > 0 ? d[i].image : d[i].def;
    h->retries = hc->set && hc->retries > 0 ? hc->retries
                 : img->health_retries > 0  ? img->health_retries
                                            : HEALTH_RETRIES_DEFAULT;
    return 0;
}

static void plan_policies(const struct service *s, struct ctr_plan *out)
{
    switch (s->restart.policy) {
    case RESTART_ALWAYS:
        out->restart.policy = PLAN_RESTART_ALWAYS;
        break;
    case RESTART_ON_FAILURE:
        out->restart.policy = PLAN_RESTART_ON_FAILURE;
        break;
    case RESTART_UNLESS_STOPPED:
        out->restart.policy = PLAN_RESTART_UNLESS_STOPPED;
        break;
    default:
        out->restart.policy = PLAN_RESTART_NO;
    }
    out->restart.max_retries = s->restart.max_retries;
    out->depends = xcalloc(s->n_depends + 1, sizeof *out->depends);
    for (size_t i = 0; i < s->n_depends; i++) {
        const struct svc_depend *d = &s->depends_on[i];
        struct plan_depend *pd = &out->depends[out->n_depends++];
        pd->service = xstrdup(d->service);
        pd->condition = d->condition == DEP_HEALTHY     ? PLAN_DEP_HEALTHY
                        : d->condition == DEP_COMPLETED ? PLAN_DEP_COMPLETED
                                                        : PLAN_DEP_STARTED;
        pd->required = d->required;
        pd->restart = d->restart;
    }
    out->labels = strv_dup(s->labels);
    out->init = s->init;
    out->stdin_open = s->stdin_open;
    out->shm_size = s->shm_size;
}

int plan_container(const struct project *p, const struct service *s, const struct image *img,
                   int number, const char *container_id, struct ctr_plan *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    /* Fail closed: nothing is planned for a service whose file asks for a
     * restriction berth would drop. */
    int rr = compose_service_refused(s, e);
    if (rr < 0)
        return rr;
    out->name = xasprintf("%s-%s-%d", p->name, s->name, number);
    out->log_name = xasprintf("%s-%d", s->name, number);

    /* Docker's rules: a compose entrypoint replaces the image's and drops
     * the image's Cmd unless a command is given too. */
    char **entry = s->entrypoint_set ? s->entrypoint : img->entrypoint;
    char **cmd = s->command_set ? s->command : (s->entrypoint_set ? NULL : img->cmd);
    for (size_t i = 0; entry && entry[i]; i++)
        strv_push(&out->argv, xstrdup(entry[i]));
    for (size_t i = 0; cmd && cmd[i]; i++)
        strv_push(&out->argv, xstrdup(cmd[i]));
    if (!out->argv || !out->argv[0]) {
        int r = berr_set(e, -EINVAL,
                         "service \"%s\": no command specified (the image %s has no Cmd or "
                         "Entrypoint; set command: in the compose file)",
                         s->name, img->familiar ? img->familiar : img->id);
        ctr_plan_free(out);
        return r;
    }

    out->hostname = xstrdup(s->hostname ? s->hostname : container_id);
    if (!s->hostname && strlen(out->hostname) > 12)
        out->hostname[12] = '\0';

    /* Environment: PATH default, the image's, compose's; HOSTNAME last
     * (after the canonical config, for the reason given there). */
    strv_env_put(&out->env, "PATH=" DEFAULT_PATH);
    for (size_t i = 0; img->env && img->env[i]; i++)
        strv_env_put(&out->env, img->env[i]);
    for (size_t i = 0; s->environment && s->environment[i]; i++)
        strv_env_put(&out->env, s->environment[i]);
    if (s->tty && !strv_env_get(out->env, "TERM"))
        strv_env_set(&out->env, "TERM", "xterm");

    const char *cwd = s->working_dir ? s->working_dir : img->working_dir;
    out->cwd = xstrdup(cwd && *cwd ? cwd : "/");
    const char *user = s->user ? s->user : img->user;
    out->user = user && *user ? xstrdup(user) : NULL;
    out->read_only = s->read_only;
    out->tty = s->tty;
    out->limits.memory = s->mem_limit;
    out->limits.cpus = s->cpus;
    out->limits.pids = s->pids_limit;
    out->caps = caps_tweak(CAPS_DOCKER_DEFAULT, CAPS_ALL_KNOWN, s->cap_add, s->cap_drop);
    out->caps_named = s->cap_add.set | s->cap_drop.set;
    out->no_new_privs = s->no_new_privs;
    int ur = plan_userns(s, out, e);
    if (ur < 0)
        return ur;

    out->stop_signal = SIGTERM;
    if (s->stop_signal > 0) {
        out->stop_signal = s->stop_signal;
    } else if (img->stop_signal && *img->stop_signal) {
        int sig = signal_parse(img->stop_signal);
        if (sig < 0) {
            int r =
                berr_set(e, -EINVAL, "service \"%s\": image %s has an invalid StopSignal \"%s\"",
                         s->name, img->familiar ? img->familiar : img->id, img->stop_signal);
            ctr_plan_free(out);
            return r;
        }
        out->stop_signal = sig;
    }
    out->stop_grace_ns = s->stop_grace_ns >= 0 ? s->stop_grace_ns : STOP_GRACE_DEFAULT_NS;
    out->layer_dirs = strv_dup(img->layer_dirs);
    plan_policies(s, out);
    int hr = plan_health(s, img, &out->health, e);
    if (hr < 0) {
        berr_wrap(e, "service \"%s\"", s->name);
        ctr_plan_free(out);
        return hr;
    }
    int mr = plan_mounts(p, s, img, out, e);
    if (mr < 0) {
        ctr_plan_free(out);
        return mr;
    }
    int nr = plan_network(p, s, out, e);
    if (nr == 0)
        nr = plan_procns(p, s, out, e);
    if (nr < 0) {
        ctr_plan_free(out);
        return nr;
    }
    int fr = plan_files(p, s, out, e);
    if (fr < 0) {
        ctr_plan_free(out);
        return fr;
    }
    plan_logs(s, out);
    int rsr = plan_resources(s, img, out, e);
    if (rsr < 0) {
        ctr_plan_free(out);
        return rsr;
    }
    int sr = plan_sec(s, out, e);
    if (sr < 0) {
        ctr_plan_free(out);
        return sr;
    }
    out->config = canonical_config(out, img, s->hostname ? s->hostname : "");
    if (!strv_env_get(out->env, "HOSTNAME"))
        strv_env_set(&out->env, "HOSTNAME", out->hostname);
    return 0;
}
