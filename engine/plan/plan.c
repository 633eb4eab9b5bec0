#include "engine/plan/plan.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void ctr_plan_free(struct ctr_plan *c)
{
    free(c->name);
    free(c->log_name);
    strv_free(c->argv);
    strv_free(c->env);
    free(c->cwd);
    free(c->user);
    free(c->hostname);
    free(c->config);
    memset(c, 0, sizeof *c);
}

static json_t *strv_json(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The default hostname is the container ID, which is new for every
 * container: use the compose value instead, so it cannot force a recreate. */
static char *canonical_config(const struct ctr_plan *c, const struct image *img,
                              const char *hostname)
{
    json_t *j =
        json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:b, s:b, s:I, s:f, s:I, s:i, s:I}", "image",
                  img->id, "argv", strv_json(c->argv), "env", strv_json(c->env), "cwd", c->cwd,
                  "user", c->user ? c->user : "", "hostname", hostname, "read_only", c->read_only,
                  "tty", c->tty, "memory", (json_int_t)c->limits.memory, "cpus", c->limits.cpus,
                  "pids", (json_int_t)c->limits.pids, "stop_signal", c->stop_signal, "stop_grace",
                  (json_int_t)c->stop_grace_ns);
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return text;
}

int plan_container(const struct project *p, const struct service *s, const struct image *img,
                   int number, const char *container_id, struct ctr_plan *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
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
    out->config = canonical_config(out, img, s->hostname ? s->hostname : "");
    if (!strv_env_get(out->env, "HOSTNAME"))
        strv_env_set(&out->env, "HOSTNAME", out->hostname);
    return 0;
}
