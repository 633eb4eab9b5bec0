/* SPDX-License-Identifier: Apache-2.0 */
/* `berth events`: follows a running project's container events from its
 * supervisor's control socket, as docker compose events prints them (a
 * line each, or --json objects), until the supervisor ends. Not here: the
 * ring and the stream (engine/supervise/sv_events.c), the event type and
 * its JSON (engine/events/event.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/ui/format.h"
#include "engine/events/event.h"
#include "engine/supervise/control.h"
#include "engine/supervise/logfile.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

struct events_opt {
    bool json;
    int64_t until_ns; /* 0: none */
};

static int cmp_attr(const void *a, const void *b)
{
    return strcmp(((const struct ev_attr *)a)->key, ((const struct ev_attr *)b)->key);
}

/* docker compose's line: local time with microseconds, "container", the
 * action, the container ID, the attributes as k=v (sorted here; Go's map
 * order is random). */
static void print_line(const struct ev *e)
{
    time_t secs = (time_t)(e->time_ns / 1000000000LL);
    struct tm tm;
    localtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    struct ev_attr attrs[EV_MAX_ATTRS];
    memcpy(attrs, e->attrs, e->n_attrs * sizeof *attrs);
    qsort(attrs, e->n_attrs, sizeof *attrs, cmp_attr);
    printf("%s.%06lld container %s %s (", when, (long long)(e->time_ns % 1000000000LL / 1000),
           e->action, e->id ? e->id : "");
    for (size_t i = 0; i < e->n_attrs; i++)
        printf("%s%s=%s", i ? ", " : "", attrs[i].key, attrs[i].value);
    printf(")\n");
}

static int on_event(json_t *j, void *ud)
{
    const struct events_opt *o = ud;
    struct ev e;
    /* docker compose streams container events only */
    if (ev_from_json(j, &e) < 0 || e.type != EV_CONTAINER)
        return 0;
    if (o->until_ns && e.time_ns > o->until_ns)
        return 1;
    if (o->json)
        ui_print_json_line(j);
    else
        print_line(&e);
    fflush(stdout);
    return ferror(stdout) ? 1 : 0; /* the reader went away (`| head -1`) */
}

static int parse_time(const char *s, int64_t now, int64_t *out)
{
    if (log_parse_since(s, now, out) == 0)
        return 0;
    fprintf(stderr,
            "berth: events: invalid time \"%s\" (RFC 3339, Unix time, or a duration such as 10m)\n",
            s);
    return -1;
}

/* The project's name, its services checked when its file is there. */
static int events_project(struct cli *c, char *const *services, char **name, struct berr *e)
{
    _cleanup_project_ struct project *p = NULL;
    int r = cli_project_name(c, services, name, &p, e);
    for (size_t i = 0; r == 0 && p && services && services[i]; i++)
        if (!project_service(p, services[i]))
            r = berr_set(e, -ENOENT, "no such service: %s", services[i]);
    return r;
}

static int events_follow(struct cli *c, char *const *services, int64_t since_ns,
                         struct events_opt *o, struct berr *e)
{
    _cleanup_free_ char *name = NULL;
    int r = events_project(c, services, &name, e);
    if (r < 0)
        return r;
    /* docker compose waits for containers to appear; berth's events come
     * from the project's supervisor, so without one there is nothing to
     * follow (and nothing would start one). */
    _cleanup_close_ int fd = ctl_connect(c->runroot, name, e);
    if (fd == -ENOENT || fd == -ECONNREFUSED)
        return berr_set(e, -ESRCH,
                        "project %s is not running: no supervisor to follow (berth up -d)", name);
    if (fd < 0)
        return fd;
    json_auto_t *req = json_pack("{s:s}", "op", "events");
    if (services) {
        json_t *a = json_array();
        for (size_t i = 0; services[i]; i++)
            json_array_append_new(a, json_string(services[i]));
        json_object_set_new(req, "services", a);
    }
    if (since_ns >= 0)
        json_object_set_new(req, "since_ns", json_integer(since_ns));
    if (o->until_ns > 0)
        json_object_set_new(req, "until_ns", json_integer(o->until_ns));
    r = ctl_events(fd, req, o->until_ns, on_event, o, e);
    if (r == -EPIPE)
        return berr_set(e, r, "project %s: the supervisor ended the event stream early", name);
    return r < 0 ? r : 0;
}

int cmd_events(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "events");
    struct events_opt o = {0};
    int64_t since_ns = -1, now = time_now_ns();
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'J':
            o.json = true;
            break;
        case 'S':
            if (parse_time(optarg, now, &since_ns) < 0)
                return 2;
            break;
        case 'U':
            if (parse_time(optarg, now, &o.until_ns) < 0)
                return 2;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    _cleanup_strv_ char **services = NULL;
    for (int i = optind; i < argc; i++)
        strv_push(&services, xstrdup(argv[i]));
    int r = events_follow(c, services, since_ns, &o, e);
    return r < 0 ? r : 0;
}
