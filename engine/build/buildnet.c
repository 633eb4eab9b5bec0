/* SPDX-License-Identifier: Apache-2.0 */
/* The network RUN steps use (engine/build/buildnet.h), made of what `up`
 * uses for compose networks: a record (net/netrec.h) naming the build's
 * process as its owner, a subnet from IPAM's pools under the host-wide
 * lock, a bridge, an nftables table of the scope "build.<tag>" (which no
 * compose project can name) masquerading the subnet's egress, IPv4
 * forwarding on as `up` turns it on (and, as `up` and docker, never
 * turned off again: other networks may rely on it). Each step: an address
 * from IPAM, a fresh namespace held by an fd of this process with a veth
 * into the bridge and a default route (runtime/netsetup.h, as the
 * supervisor's containers), and the three /etc files written under
 * RUNROOT/build.net/<name>.<pid>.<start>/<step>/.
 *
 * What a killed build leaves: its namespaces die with its fds; its
 * record, subnet, bridge, table and files stay, and the next
 * build_net_open removes those whose owner (pid and start time, in the
 * record and the files directory's name) is gone.
 * Not here: running the step (the builder), the libraries (net/). */
#include "engine/build/buildnet.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/netsetup.h"
#include "engine/runtime/runtime.h"
#include "net/etcfiles.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netrec.h"
#include "net/nft.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define NAME_PREFIX  "berth-build-" /* + tag: the network's name */
#define SCOPE_PREFIX "build."       /* + tag: its nftables table's scope */
#define FILES_DIR    "build.net"    /* under the run root; no project's name has a '.' */
#define HOSTS_MAX    (1u << 20)     /* the host's /etc/hosts, copied for host networking */
/* docker's (BuildKit's) hostname of a RUN step */
#define DEFAULT_HOSTNAME "buildkitsandbox"

/* A step's namespace, held here until the step ends. */
struct step_ns {
    char *name;
    char *dir; /* its files */
    int fd;    /* -1: none (host, none) */
};

struct build_net {
    char *root, *runroot;
    enum build_net_mode mode;
    char **extra_hosts;
    char *name;  /* "berth-build-<tag>" */
    char *scope; /* "build.<tag>" */
    char *dir;   /* RUNROOT/build.net/<name>.<pid>.<start>, made at the first step */
    struct net_record rec;
    bool made; /* the record, subnet, bridge and table exist */
    unsigned mtu;
    unsigned seq;
    struct step_ns *steps;
    size_t n_steps;
};

static void random_hex(char *out, size_t nbytes)
{
    uint8_t b[32];
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = getrandom(b + got, nbytes - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static bool owner_alive(int pid, unsigned long long start)
{
    if (pid <= 0)
        return false;
    unsigned long long t = proc_start_time(pid);
    return t != 0 && t == start;
}

/* Removes what a network record stands for: its table, bridge, subnet
 * and addresses, and (all that gone) the record. Errors are the next
 * sweep's to retry, so the record stays when something did not go. */
static void network_unmake(const char *root, const struct net_record *rec)
{
    bool ok = !rec->project || nft_project_remove(rec->project, NULL) == 0;
    ok = link_remove(rec->bridge, NULL) == 0 && ok;
    ok = ipam_network_release(root, rec->name, NULL) == 0 && ok;
    if (ok)
        net_record_remove(root, rec->name, NULL);
}

/* Whether rec is a build's network (not a compose network someone named
 * berth-build-...: those have no owner and another scope). */
static bool is_build_record(const struct net_record *rec)
{
    return strncmp(rec->name, NAME_PREFIX, strlen(NAME_PREFIX)) == 0 && rec->owner_pid > 0 &&
           rec->project && strncmp(rec->project, SCOPE_PREFIX, strlen(SCOPE_PREFIX)) == 0 &&
           strcmp(rec->project + strlen(SCOPE_PREFIX), rec->name + strlen(NAME_PREFIX)) == 0;
}

/* The networks and files of builds whose process is gone. */
static void sweep_dead(const char *root, const char *runroot)
{
    struct net_record *recs = NULL;
    size_t n = 0;
    if (net_record_list(root, NULL, &recs, &n, NULL) == 0)
        for (size_t i = 0; i < n; i++)
            if (is_build_record(&recs[i]) && !owner_alive(recs[i].owner_pid, recs[i].owner_start))
                network_unmake(root, &recs[i]);
    net_record_list_free(recs, n);

    _cleanup_free_ char *dir = xasprintf("%s/" FILES_DIR, runroot);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_strv_ char **names = dfd >= 0 ? fs_list_names(dfd, false) : NULL;
    for (size_t i = 0; names && names[i]; i++) {
        /* "<name>.<pid>.<start>" */
        int pid = 0;
        unsigned long long start = 0;
        int used = 0;
        if (strncmp(names[i], NAME_PREFIX, strlen(NAME_PREFIX)) != 0)
            continue;
        const char *dot = strchr(names[i], '.');
        if (!dot || sscanf(dot, ".%d.%llu%n", &pid, &start, &used) != 2 || dot[used] != '\0' ||
            owner_alive(pid, start))
            continue;
        fs_rm_rf_at(dfd, names[i], NULL);
    }
}

static int parse_mode(const char *mode, enum build_net_mode *out, struct berr *e)
{
    if (!mode || strcmp(mode, "default") == 0)
        *out = BUILD_NET_BRIDGE;
    else if (strcmp(mode, "host") == 0)
        *out = BUILD_NET_HOST;
    else if (strcmp(mode, "none") == 0)
        *out = BUILD_NET_NONE;
    else
        return berr_set(e, -EINVAL, "build network \"%s\": not one of default, host, none", mode);
    return 0;
}

int build_net_open(const char *root, const char *runroot, const char *mode,
                   char *const *extra_hosts, struct build_net **out, struct berr *e)
{
    *out = NULL;
    enum build_net_mode m = BUILD_NET_BRIDGE;
    int r = parse_mode(mode, &m, e);
    if (r < 0)
        return r;
    /* extra_hosts refused now, before any step: host-gateway is the
     * bridge's gateway, which only the default mode has */
    _cleanup_free_ char *hosts = NULL;
    struct net_hosts_spec hs = {.hostname = DEFAULT_HOSTNAME,
                                .extra_hosts = extra_hosts,
                                .host_gateway = m == BUILD_NET_BRIDGE ? "127.0.0.1" : NULL};
    r = net_hosts_render(&hs, &hosts, e);
    if (r < 0)
        return berr_wrap(e, "build network");
    sweep_dead(root, runroot);
    struct build_net *n = xcalloc(1, sizeof *n);
    n->root = xstrdup(root);
    n->runroot = xstrdup(runroot);
    n->mode = m;
    n->extra_hosts = strv_dup(extra_hosts);
    char tag[9];
    random_hex(tag, 4);
    n->name = xasprintf(NAME_PREFIX "%s", tag);
    n->scope = xasprintf(SCOPE_PREFIX "%s", tag);
    *out = n;
    return 0;
}

enum build_net_mode build_net_mode(const struct build_net *n)
{
    return n->mode;
}

/* The record, subnet, bridge and table, once per build. On failure
 * nothing of them is left. */
static int network_make(struct build_net *n, struct berr *e)
{
    _cleanup_close_ int lock = ipam_host_lock(e);
    if (lock < 0)
        return lock;
    char id[65], created[TIME_RFC3339_MAX];
    random_hex(id, 32);
    time_rfc3339(time_now_ns(), 9, created);
    n->rec = (struct net_record){
        .name = xstrdup(n->name),
        .id = xstrdup(id),
        .bridge = net_bridge_name(id),
        .project = xstrdup(n->scope),
        .created = xstrdup(created),
        .owner_pid = (int)getpid(),
        .owner_start = proc_start_time(getpid()),
    };
    /* The record first: whatever follows, a killed build's next one
     * finds it. */
    int r = net_record_write(n->root, &n->rec, e);
    if (r < 0) {
        net_record_free(&n->rec);
        return r;
    }
    n->made = true;
    _cleanup_free_ struct ipam_prefix *host = NULL;
    size_t nhost = 0;
    struct ipam_request req = {0};
    struct ipam_network alloc;
    r = link_host_prefixes(&host, &nhost, e);
    if (r == 0)
        r = ipam_network_acquire(n->root, n->name, &req, host, nhost, &alloc, e);
    if (r == 0) {
        n->rec.subnet4 = xstrdup(alloc.subnet);
        n->rec.gateway4 = xstrdup(alloc.gateway);
        r = net_record_write(n->root, &n->rec, e);
    }
    if (r == 0) {
        if (link_default_mtu(&n->mtu, NULL) < 0 || !n->mtu)
            n->mtu = 1500;
        r = netsetup_bridge(n->rec.bridge, n->rec.gateway4, strchr(n->rec.subnet4, '/') + 1, n->mtu,
                            e);
    }
    if (r == 0) {
        const struct nft_net net = {.bridge = n->rec.bridge, .subnet4 = n->rec.subnet4};
        const struct nft_project p = {.project = n->scope, .nets = &net, .n_nets = 1};
        r = nft_project_apply(&p, e);
    }
    if (r < 0) {
        network_unmake(n->root, &n->rec);
        net_record_free(&n->rec);
        n->made = false;
        return berr_wrap(e, "build network %s", n->name);
    }
    /* As up does: on where it is off (and left on); where it cannot be,
     * the steps still run, only without a way out. */
    bool changed;
    link_forwarding_enable(AF_INET, &changed, NULL);
    return 0;
}

/* The three files, from a plan of one step as netsetup reads it. */
static int step_files(struct build_net *n, const struct ctr_plan *pl, struct step_ns *s,
                      struct build_net_step *out, struct berr *e)
{
    _cleanup_free_ char *hosts = NULL; /* none: the localhost lines */
    if (n->mode == BUILD_NET_HOST)
        fs_read_file(AT_FDCWD, "/etc/hosts", HOSTS_MAX, &hosts, NULL, NULL);
    struct netsetup_files o = {.hosts_base = hosts};
    struct mount_spec *mounts = NULL;
    size_t nm = 0;
    _cleanup_strv_ char **strings = NULL;
    int r = fs_mkdir_p(s->dir, 0700, e);
    if (r == 0)
        r = netsetup_etc(s->dir, s->name, pl, &o, &mounts, &nm, &strings, e);
    for (size_t i = 0; r == 0 && i < nm; i++) {
        char **to = strcmp(mounts[i].target, "/etc/resolv.conf") == 0 ? &out->resolv_conf
                    : strcmp(mounts[i].target, "/etc/hosts") == 0     ? &out->hosts
                                                                      : &out->hostname;
        *to = xstrdup(mounts[i].source);
    }
    free(mounts);
    return r;
}

/* The step's address, namespace and links (the default mode). */
static int step_attach(struct build_net *n, struct step_ns *s, struct plan_endpoint *ep,
                       struct ctr_plan *pl, struct berr *e)
{
    char addr[IPAM_PREFIX_STRLEN];
    int r = ipam_address_acquire(n->root, n->name, s->name, NULL, addr, e);
    if (r < 0)
        return r;
    *ep = (struct plan_endpoint){
        .network = n->name,
        .bridge = n->rec.bridge,
        .addr4 = xasprintf("%s/%s", addr, strchr(n->rec.subnet4, '/') + 1),
        .gateway4 = n->rec.gateway4,
    };
    pl->endpoints = ep;
    pl->n_endpoints = 1;
    s->fd = netsetup_attach(pl, s->name, &n->mtu, e);
    return s->fd < 0 ? s->fd : 0;
}

static void step_release(struct build_net *n, struct step_ns *s)
{
    if (s->fd >= 0)
        close(s->fd); /* the namespace and its veth go with the last holder */
    if (n->made)
        ipam_address_release(n->root, n->name, s->name, NULL);
    if (s->dir)
        fs_rm_rf_at(AT_FDCWD, s->dir, NULL);
    free(s->name);
    free(s->dir);
    *s = (struct step_ns){.fd = -1};
}

int build_net_step_begin(struct build_net *n, const char *hostname, struct build_net_step *out,
                         struct berr *e)
{
    *out = (struct build_net_step){0};
    if (!hostname)
        hostname = DEFAULT_HOSTNAME;
    _cleanup_free_ char *checked = NULL;
    int r = net_hostname_render(hostname, &checked, e);
    if (r < 0)
        return berr_wrap(e, "build network");
    if (!n->dir)
        n->dir = xasprintf("%s/" FILES_DIR "/%s.%d.%llu", n->runroot, n->name, (int)getpid(),
                           proc_start_time(getpid()));
    r = n->mode == BUILD_NET_BRIDGE && !n->made ? network_make(n, e) : 0;
    if (r < 0)
        return r;
    n->seq++;
    struct step_ns s = {
        .name = xasprintf("%s-%u", n->name, n->seq),
        .dir = xasprintf("%s/%u", n->dir, n->seq),
        .fd = -1,
    };
    struct plan_endpoint ep = {0};
    struct ctr_plan pl = {
        .hostname = (char *)hostname,
        .extra_hosts = n->extra_hosts,
        .network_mode = n->mode == BUILD_NET_HOST   ? (char *)"host"
                        : n->mode == BUILD_NET_NONE ? (char *)"none"
                                                    : NULL,
    };
    if (n->mode == BUILD_NET_BRIDGE)
        r = step_attach(n, &s, &ep, &pl, e);
    if (r == 0)
        r = step_files(n, &pl, &s, out, e);
    free(ep.addr4);
    if (r < 0) {
        step_release(n, &s);
        build_net_step_end(n, out);
        return berr_wrap(e, "build network");
    }
    out->name = xstrdup(s.name);
    out->netns_path = s.fd >= 0 ? netsetup_fd_path(s.fd) : NULL;
    n->steps = xreallocarray(n->steps, n->n_steps + 1, sizeof *n->steps);
    n->steps[n->n_steps++] = s;
    return 0;
}

void build_net_step_end(struct build_net *n, struct build_net_step *st)
{
    for (size_t i = 0; n && st->name && i < n->n_steps; i++)
        if (strcmp(n->steps[i].name, st->name) == 0) {
            step_release(n, &n->steps[i]);
            n->steps[i] = n->steps[--n->n_steps];
            break;
        }
    free(st->netns_path);
    free(st->resolv_conf);
    free(st->hosts);
    free(st->hostname);
    free(st->name);
    *st = (struct build_net_step){0};
}

void build_net_close(struct build_net *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_steps; i++)
        step_release(n, &n->steps[i]);
    free(n->steps);
    if (n->made)
        network_unmake(n->root, &n->rec);
    net_record_free(&n->rec);
    if (n->dir) {
        fs_rm_rf_at(AT_FDCWD, n->dir, NULL);
        /* the files directory too, when no other build uses it */
        _cleanup_free_ char *top = xasprintf("%s/" FILES_DIR, n->runroot);
        rmdir(top);
    }
    free(n->dir);
    free(n->name);
    free(n->scope);
    strv_free(n->extra_hosts);
    free(n->root);
    free(n->runroot);
    free(n);
}
