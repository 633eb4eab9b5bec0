/* SPDX-License-Identifier: Apache-2.0 */
/* `berth ps` (the project's containers), from the project's supervisor when
 * one runs, else from the state on disk, and `berth ls` (projects), from
 * the disk: they answer the same whether or not a supervisor runs.
 * Not here: what a state is (cmd/ps_state.c), the records
 * (engine/supervise/records.c). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/ps_ports.h"
#include "cmd/ps_state.h"
#include "cmd/project.h"
#include "cmd/ui/format.h"
#include "engine/supervise/control.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

static const char *const states[] = {"paused", "restarting", "removing", "running",
                                     "dead",   "created",    "exited",   NULL};

static char *quoted_command(char *const *argv, bool no_trunc)
{
    _cleanup_free_ char *joined = strv_join(argv, " ");
    /* docker truncates to 20 characters, ending with "…" */
    size_t cps = 0, cut = 0;
    for (size_t i = 0; joined[i]; i++)
        if (((unsigned char)joined[i] & 0xC0) != 0x80 && ++cps == 20)
            cut = i;
    if (!no_trunc && cps > 20)
        return xasprintf("\"%.*s…\"", (int)cut, joined);
    return xasprintf("\"%s\"", joined);
}

/* The containers' states from the project's supervisor, which knows them
 * as its events left them (NULL when none runs, or it does not answer
 * within a second: then each comes from its run state on disk). */
static json_t *supervisor_states(struct cli *c, const char *project)
{
    _cleanup_close_ int fd = ctl_connect(c->runroot, project, NULL);
    json_t *reply = NULL;
    if (fd >= 0) {
        json_auto_t *req = json_pack("{s:s}", "op", "state");
        ctl_query(fd, req, 1000, &reply, NULL);
    }
    json_t *all = json_incref(json_object_get(reply, "containers"));
    json_decref(reply);
    return all;
}

static void state_of(struct cli *c, const char *project, json_t *live, const struct ctr_record *r,
                     int64_t now, struct ps_state *out)
{
    json_t *j = json_object_get(live, r->name);
    if (!j) {
        ps_state_of(c, project, r, now, out);
        return;
    }
    struct run_state rs;
    run_state_from_json(j, &rs);
    ps_state_from(r, &rs, now, out);
    if (rs.running && !out->alive)
        ps_state_of(c, project, r, now, out); /* it ended since: as it says on disk */
}

/* The networks of r, comma-separated (docker's "Networks"). */
static char *networks_of(const struct ctr_record *r)
{
    char *s = xstrdup("");
    for (size_t i = 0; i < r->plan.n_endpoints; i++) {
        char *x = xasprintf("%s%s%s", s, *s ? "," : "", r->plan.endpoints[i].network);
        free(s);
        s = x;
    }
    return s;
}

/* The run state whose ports ps shows: a container whose process is gone
 * has none bound (docker shows only the exposed ones then). */
static const struct run_state *ports_of(const struct ps_state *ps)
{
    static const struct run_state none;
    return ps->alive ? &ps->rs : &none;
}

/* One container as docker compose's `ps --format json` line. */
static void print_json_row(const char *name, const struct ctr_record *r, const struct ps_state *ps,
                           const char *cmd)
{
    json_t *o = json_object();
    json_object_set_new(o, "Command", json_string(cmd));
    json_object_set_new(o, "CreatedAt", json_string(ps->created_at));
    json_object_set_new(o, "ExitCode", json_integer(ps->exit_code));
    json_object_set_new(o, "Health", json_string(ps->health));
    json_object_set_new(o, "ID", json_string(r->id));
    json_object_set_new(o, "Image", json_string(r->image ? r->image : ""));
    json_t *labels = json_array();
    _cleanup_free_ char *lab = strv_join(r->plan.labels, ",");
    json_decref(labels);
    json_object_set_new(o, "Labels", json_string(lab));
    if (r->plan.annotations) { /* berth's own: docker shows them in inspect */
        _cleanup_free_ char *ann = strv_join(r->plan.annotations, ",");
        json_object_set_new(o, "Annotations", json_string(ann));
    }
    json_object_set_new(o, "LocalVolumes", json_string("0"));
    json_object_set_new(o, "Mounts", json_string(""));
    json_object_set_new(o, "Name", json_string(r->name));
    json_object_set_new(o, "Names", json_string(r->name));
    _cleanup_free_ char *nets = networks_of(r);
    json_object_set_new(o, "Networks", json_string(nets));
    const struct run_state *bound = ports_of(ps);
    _cleanup_free_ char *ports = ps_ports_text(bound, r->plan.expose);
    json_object_set_new(o, "Ports", json_string(ports));
    json_object_set_new(o, "Project", json_string(name));
    json_object_set_new(o, "Publishers", ps_ports_publishers(bound, r->plan.expose));
    json_object_set_new(o, "RestartCount", json_integer(ps->rs.restarts));
    json_object_set_new(o, "RunningFor", json_string(ps->running_for));
    json_object_set_new(o, "Service", json_string(r->service));
    json_object_set_new(o, "Size", json_string("0B"));
    json_object_set_new(o, "State", json_string(ps->state));
    json_object_set_new(o, "Status", json_string(ps->status));
    ui_print_json_line(o);
    json_decref(o);
}

struct ps_opts {
    bool all, quiet, services_only, json, no_trunc;
    char **status; /* --status / --filter status=...: the states shown */
};

/* ps's flags into o: -1 to go on, else the exit status (usage: 2). */
static int ps_flags(int argc, char **argv, struct ps_opts *o)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "ps");
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'a':
            o->all = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'S':
            o->services_only = true;
            break;
        case 'f':
            if (strncmp(optarg, "status=", 7) != 0) {
                fprintf(stderr, "berth: ps: unsupported filter \"%s\" (status=STATUS)\n", optarg);
                return 2;
            }
            optarg += 7;
            /* fall through */
        case 's':
            if (!strv_contains((char *const *)states, optarg)) {
                fprintf(stderr,
                        "berth: ps: invalid status \"%s\" (paused, restarting, removing, running, "
                        "dead, created, exited)\n",
                        optarg);
                return 2;
            }
            strv_push(&o->status, xstrdup(optarg));
            o->all = true;
            break;
        case 'F': {
            int k = cmd_parser_choice(&op, 'F', optarg); /* table json */
            if (k < 0)
                return 2;
            o->json = k == 1;
            break;
        }
        case 'T':
            o->no_trunc = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    return -1;
}

int cmd_ps(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct ps_opts o = {0};
    int fr = ps_flags(argc, argv, &o);
    _cleanup_strv_ char **status = o.status;
    if (fr >= 0)
        return fr;
    bool all = o.all, quiet = o.quiet, services_only = o.services_only, json = o.json,
         no_trunc = o.no_trunc;
    _cleanup_project_ struct project *p = NULL;
    _cleanup_free_ char *name = NULL;
    int r = cli_project_name(c, argv + optind, &name, &p, e);
    if (r < 0)
        return r;
    _cleanup_ctr_list_ struct ctr_list l = {0};
    char *const *sel = optind < argc ? argv + optind : NULL;
    _cleanup_strv_ char **sel_copy = NULL;
    if (sel) {
        for (int i = optind; i < argc; i++)
            strv_push(&sel_copy, xstrdup(argv[i]));
        sel = sel_copy;
    }
    r = cli_project_containers(c, name, p, sel, true, &l.v, &l.n, e);
    if (r < 0)
        return r;
    const struct ctr_record *recs = l.v;
    size_t n = l.n;
    const char *hdr[] = {"NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"};
    const size_t ncol = ARRAY_SIZE(hdr);
    _cleanup_free_ char **cells = xcalloc((n + 1) * ncol, sizeof *cells);
    size_t rows = 0;
    json_auto_t *live = supervisor_states(c, name);
    int64_t now = ps_now_ns();
    for (size_t i = 0; i < n; i++) {
        struct ps_state ps;
        state_of(c, name, live, &recs[i], now, &ps);
        if (!all && strcmp(ps.state, "running") != 0 && strcmp(ps.state, "paused") != 0 &&
            strcmp(ps.state, "restarting") != 0)
            continue;
        if (status && !strv_contains(status, ps.state))
            continue;
        if (services_only) {
            if (!strv_contains(cells, recs[i].service))
                cells[rows++] = xstrdup(recs[i].service);
            continue;
        }
        if (quiet) {
            puts(no_trunc ? recs[i].id : recs[i].id);
            continue;
        }
        _cleanup_free_ char *cmd = quoted_command(recs[i].plan.argv, no_trunc);
        if (json) {
            print_json_row(name, &recs[i], &ps, cmd);
            continue;
        }
        char **row = cells + (rows + 1) * ncol;
        row[0] = xstrdup(recs[i].name);
        row[1] = xstrdup(recs[i].image ? recs[i].image : "");
        row[2] = xstrdup(cmd);
        row[3] = xstrdup(recs[i].service);
        row[4] = xstrdup(ps.running_for);
        row[5] = xstrdup(ps.status);
        row[6] = ps_ports_text(ports_of(&ps), recs[i].plan.expose);
        rows++;
    }
    if (services_only) {
        for (size_t i = 0; i < rows; i++) {
            puts(cells[i]);
            free(cells[i]);
        }
    } else if (!quiet && !json) {
        for (size_t k = 0; k < ncol; k++)
            cells[k] = xstrdup(hdr[k]);
        ui_table((const char *const *)cells, rows + 1, ncol);
        for (size_t i = 0; i < (rows + 1) * ncol; i++)
            free(cells[i]);
    }
    return 0;
}

/* port: the host address a container's port is published on, from the
 * supervisor's bindings (the random port included). */
int cmd_port(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "port");
    int proto = IPPROTO_TCP;
    long index = 1;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'P': {
            int k = cmd_parser_choice(&op, 'P', optarg); /* tcp udp */
            if (k < 0)
                return 2;
            proto = k == 1 ? IPPROTO_UDP : IPPROTO_TCP;
            break;
        }
        case 'I': {
            char *end;
            index = strtol(optarg, &end, 10);
            if (*end || end == optarg || index < 1 || index > 1000000) {
                fprintf(stderr, "berth: port: invalid --index \"%s\" (a number from 1)\n", optarg);
                return 2;
            }
            break;
        }
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "berth: \"port\" requires exactly 2 arguments: SERVICE PRIVATE_PORT\n");
        cmd_print_help(op.def, stderr);
        return 2;
    }
    const char *svc = argv[optind], *port_arg = argv[optind + 1];
    char *end;
    long port = strtol(port_arg, &end, 10);
    if (*end || end == port_arg || port < 1 || port > 65535) {
        fprintf(stderr, "berth: port: invalid port \"%s\" (a number from 1 to 65535)\n", port_arg);
        return 2;
    }
    char *named[] = {(char *)svc, NULL};
    _cleanup_project_ struct project *p = NULL;
    _cleanup_free_ char *name = NULL;
    int r = cli_project_name(c, named, &name, &p, e);
    if (r < 0)
        return r;
    _cleanup_ctr_list_ struct ctr_list l = {0};
    r = cli_project_containers(c, name, p, named, false, &l.v, &l.n, e);
    if (r < 0)
        return r;
    const struct ctr_record *rec = NULL;
    for (size_t i = 0; i < l.n && !rec; i++)
        if (strcmp(l.v[i].service, svc) == 0 && l.v[i].number == index)
            rec = &l.v[i];
    if (!rec) {
        if (index == 1)
            return berr_set(e, -ESRCH, "service \"%s\" is not running", svc);
        return berr_set(e, -ESRCH, "service \"%s\" is not running container #%ld", svc, index);
    }
    json_auto_t *live = supervisor_states(c, name);
    struct ps_state ps;
    state_of(c, name, live, rec, ps_now_ns(), &ps);
    const struct run_state *bound = ports_of(&ps);
    char addr[64];
    if (ps_port_lookup(bound, proto, (uint16_t)port, addr, sizeof addr) < 0) {
        _cleanup_free_ char *all = ps_ports_public_list(bound, rec->plan.expose);
        return berr_set(e, -ENOENT, "no port %ld/%s for container %s: %s", port,
                        plan_proto_name(proto), rec->name, all);
    }
    puts(addr);
    return 0;
}

/* ls: projects with their containers' states, from the records on disk. */
int cmd_ls(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "ls");
    bool all = false, quiet = false, json = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'a':
            all = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'F': {
            int k = cmd_parser_choice(&op, 'F', optarg); /* table json */
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
    _cleanup_ctr_list_ struct ctr_list l = {0};
    int r = ctr_list(c->root, NULL, &c->sink, &l.v, &l.n, e);
    if (r < 0)
        return r;
    const struct ctr_record *recs = l.v;
    size_t n = l.n;
    /* group by project (records come in directory order) */
    _cleanup_strv_ char **projects = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strv_contains(projects, recs[i].project))
            strv_push(&projects, xstrdup(recs[i].project));
    size_t np = strv_len(projects);
    xqsort(projects, np, sizeof *projects, (int (*)(const void *, const void *))strcmp_p);
    int64_t now = ps_now_ns();
    json_t *arr = json_array();
    _cleanup_free_ char **cells = xcalloc((np + 1) * 3, sizeof *cells);
    size_t rows = 0;
    for (size_t k = 0; k < np; k++) {
        int counts[ARRAY_SIZE(states)] = {0};
        const char *files = "";
        for (size_t i = 0; i < n; i++) {
            if (strcmp(recs[i].project, projects[k]) != 0)
                continue;
            struct ps_state ps;
            ps_state_of(c, projects[k], &recs[i], now, &ps);
            for (size_t s = 0; states[s]; s++)
                if (strcmp(states[s], ps.state) == 0)
                    counts[s]++;
            if (recs[i].config_files)
                files = recs[i].config_files;
        }
        int running = counts[3] + counts[0] + counts[1];
        if (!all && running == 0)
            continue;
        /* docker compose: "exited(1), running(2)" in alphabetical order */
        _cleanup_free_ char *st = xstrdup("");
        static const int order[] = {5, 4, 6, 0,
                                    2, 1, 3}; /* created dead exited paused removing
                                                 restarting running */
        for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
            int s = order[o];
            if (!counts[s])
                continue;
            char *x = xasprintf("%s%s%s(%d)", st, *st ? ", " : "", states[s], counts[s]);
            free(st);
            st = x;
        }
        if (quiet) {
            puts(projects[k]);
            continue;
        }
        if (json) {
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "Name", projects[k], "Status",
                                                 st, "ConfigFiles", files));
            continue;
        }
        char **row = cells + (rows + 1) * 3;
        row[0] = xstrdup(projects[k]);
        row[1] = xstrdup(st);
        row[2] = xstrdup(files);
        rows++;
    }
    if (json)
        ui_print_json_line(arr);
    else if (!quiet) {
        cells[0] = xstrdup("NAME");
        cells[1] = xstrdup("STATUS");
        cells[2] = xstrdup("CONFIG FILES");
        ui_table((const char *const *)cells, rows + 1, 3);
        for (size_t i = 0; i < (rows + 1) * 3; i++)
            free(cells[i]);
    }
    json_decref(arr);
    return 0;
}
