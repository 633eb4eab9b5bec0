/* SPDX-License-Identifier: Apache-2.0 */
/* The network of RUN steps (engine/build/buildnet.h) against the real
 * kernel, as root (skipped otherwise): the default mode's steps each get
 * an address on the build's bridge and a default route through it, reach
 * each other and the gateway, and reach past the host with their source
 * masqueraded to the host's address (proven on a peer namespace the test
 * makes, on 10.233.N.0/30: nothing leaves the machine); their /etc files;
 * host and none modes; an unknown mode and bad extra_hosts refused; close
 * leaving no bridge, veth, table, record, IPAM entry or file; a killed
 * build's leftovers removed by the next open. Traffic goes only to the
 * bridges and namespaces the test made. IP forwarding is put back as it
 * was. Not here: the builder's use of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/build/buildnet.h"
#include "net/etcfiles.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netrec.h"
#include "net/nft.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#include "scratch.h"

struct fx {
    char *root, *runroot;
    char fwd; /* ip_forward as found */
    /* the peer: a namespace with a veth to the host, 10.233.OCT.0/30 */
    char peer_ns[32], peer_host[IFNAMSIZ], peer_in[IFNAMSIZ];
    unsigned oct;
    char host_addr[32], peer_addr[32];
    bool peer_made;
};

static void must(int r, struct berr *e)
{
    if (r < 0)
        fail_msg("unexpected error %d: %s", r, e->msg ? e->msg : "(no message)");
}

static char read_forwarding(void)
{
    char c = '?';
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read(fd, &c, 1) != 1)
        c = '?';
    if (fd >= 0)
        close(fd);
    return c;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A /30 of 10.233.0.0/16 that no host route or address overlaps. */
static unsigned free_oct(unsigned from)
{
    struct berr e = BERR_INIT;
    _cleanup_free_ struct ipam_prefix *v = NULL;
    size_t n = 0;
    must(link_host_prefixes(&v, &n, &e), &e);
    for (unsigned i = 0; i < 256; i++) {
        unsigned oct = (from + i) % 256;
        struct ipam_prefix p = {.family = AF_INET, .len = 24, .addr = {10, 233, (uint8_t)oct, 0}};
        bool taken = false;
        for (size_t k = 0; k < n && !taken; k++)
            taken = ipam_prefix_overlaps(&p, &v[k]);
        if (!taken)
            return oct;
    }
    fail_msg("no free 10.233.N.0/24");
    return 0;
}

static int group_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->root = scratch_dir("buildnet-root");
    f->runroot = scratch_dir("buildnet-run");
    f->fwd = read_forwarding();
    int pid = getpid();
    snprintf(f->peer_ns, sizeof f->peer_ns, "bn%dp", pid);
    snprintf(f->peer_host, sizeof f->peer_host, "bn%dh", pid);
    snprintf(f->peer_in, sizeof f->peer_in, "bn%di", pid);
    f->oct = free_oct((unsigned)pid);
    snprintf(f->host_addr, sizeof f->host_addr, "10.233.%u.1", f->oct);
    snprintf(f->peer_addr, sizeof f->peer_addr, "10.233.%u.2", f->oct);
    *state = f;
    return 0;
}

static void peer_remove(struct fx *f)
{
    if (!f->peer_made)
        return;
    sh("ip link del %s 2>/dev/null", f->peer_host);
    sh("ip netns del %s 2>/dev/null", f->peer_ns);
    f->peer_made = false;
}

static int group_teardown(void **state)
{
    struct fx *f = *state;
    peer_remove(f);
    /* forwarding as it was (build_net_open turns it on, as up does) */
    if (f->fwd == '0' && read_forwarding() == '1') {
        int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "0", 1) != 1)
                fprintf(stderr, "could not restore ip_forward\n");
            close(fd);
        }
    }
    scratch_remove(f->root);
    scratch_remove(f->runroot);
    free(f);
    return 0;
}

/* The one build network recorded in the store (its record), or false. */
static bool only_record(struct fx *f, struct net_record *out)
{
    struct net_record *v = NULL;
    size_t n = 0;
    struct berr e = BERR_INIT;
    must(net_record_list(f->root, NULL, &v, &n, &e), &e);
    assert_true(n <= 1);
    if (n == 1) {
        *out = v[0];
        v[0] = (struct net_record){0};
    }
    net_record_list_free(v, n);
    return n == 1;
}

static int netns_fd_of(const char *path)
{
    int fd = -1;
    if (!path || sscanf(path, "/proc/self/fd/%d", &fd) != 1)
        fail_msg("netns_path \"%s\" is not /proc/self/fd/N", path ? path : "(null)");
    return fd;
}

/* A child with a pipe to the parent: in the child *w is its end, in the
 * parent *r. */
static pid_t fork_piped(int *r, int *w)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    close(p[pid == 0 ? 0 : 1]);
    *(pid == 0 ? w : r) = p[pid == 0 ? 1 : 0];
    return pid;
}

/* Joins the namespace at path (the calling process is a fresh child). */
static void enter(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
        _exit(90);
    close(fd);
}

/* A child that accepts one TCP connection on addr:port inside the
 * namespace at path (NULL: the host's) and writes the peer's address to
 * *rfd; returns once it listens. */
static pid_t serve_once(const char *path, const char *addr, uint16_t port, int *rfd)
{
    int p[2], ready[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        close(ready[0]);
        if (path)
            enter(path);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, addr, &sa.sin_addr);
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1) < 0)
            _exit(91);
        if (write(ready[1], "r", 1) != 1)
            _exit(92);
        struct pollfd pf = {.fd = s, .events = POLLIN};
        if (poll(&pf, 1, 5000) != 1)
            _exit(93);
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        int c = accept(s, (struct sockaddr *)&from, &len);
        char buf[INET_ADDRSTRLEN] = "";
        if (c < 0 || !inet_ntop(AF_INET, &from.sin_addr, buf, sizeof buf))
            _exit(94);
        if (write(p[1], buf, strlen(buf)) < 0)
            _exit(95);
        _exit(0);
    }
    close(p[1]);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    *rfd = p[0];
    return pid;
}

/* Connects from the namespace at path to addr:port: 0 when it did. */
static int connect_from(const char *path, const char *addr, uint16_t port)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        enter(path);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = {.tv_sec = 3};
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, addr, &sa.sin_addr);
        _exit(s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The address the listener saw ("" when it saw none). */
static void served(pid_t pid, int rfd, char out[INET_ADDRSTRLEN])
{
    memset(out, 0, INET_ADDRSTRLEN);
    if (read(rfd, out, INET_ADDRSTRLEN - 1) < 0)
        out[0] = '\0';
    close(rfd);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* What a step's namespace has: its eth0 address (bare) and whether its
 * default route goes through gw; and the host's ifindex of its veth. */
struct seen {
    char addr[INET_ADDRSTRLEN];
    bool default_via_gw;
    int host_ifindex;
};

static void look_inside(const char *path, const char *gw, struct seen *out)
{
    memset(out, 0, sizeof *out);
    int rfd = -1, wfd = -1;
    pid_t pid = fork_piped(&rfd, &wfd);
    if (pid == 0) {
        enter(path);
        struct seen s = {0};
        struct ifaddrs *ifa = NULL;
        if (getifaddrs(&ifa) == 0)
            for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                    strcmp(i->ifa_name, "eth0") == 0)
                    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, s.addr,
                              sizeof s.addr);
        freeifaddrs(ifa);
        /* /proc/self/net is the reading thread's namespace */
        FILE *r = fopen("/proc/self/net/route", "r");
        char line[256];
        struct in_addr want;
        inet_pton(AF_INET, gw, &want);
        while (r && fgets(line, sizeof line, r)) {
            char ifn[32];
            unsigned dst, via;
            if (sscanf(line, "%31s %x %x", ifn, &dst, &via) == 3 && dst == 0 &&
                via == want.s_addr && strcmp(ifn, "eth0") == 0)
                s.default_via_gw = true;
        }
        if (r)
            fclose(r);
        _exit(write(wfd, &s, sizeof s) == (ssize_t)sizeof s ? 0 : 1);
    }
    assert_int_equal(read(rfd, out, sizeof *out), (ssize_t)sizeof *out);
    close(rfd);
    waitpid(pid, NULL, 0);
    /* the host side of eth0: "N: eth0@ifM: ..." */
    _cleanup_free_ char *cmd = xasprintf("nsenter --net=/proc/%d/fd/%d ip -o link show eth0",
                                         (int)getpid(), netns_fd_of(path));
    FILE *ip = popen(cmd, "r");
    char line[512] = "";
    if (ip && fgets(line, sizeof line, ip)) {
        const char *at = strstr(line, "eth0@if");
        if (at)
            out->host_ifindex = atoi(at + strlen("eth0@if"));
    }
    if (ip)
        pclose(ip);
}

static bool ifindex_exists(int idx)
{
    char name[IF_NAMESIZE];
    return idx > 0 && if_indextoname((unsigned)idx, name) != NULL;
}

/* Waits up to 5 s for the link to go (a namespace is freed by the
 * kernel's worker, a moment after its last holder). */
static bool ifindex_gone(int idx)
{
    for (int i = 0; i < 100; i++) {
        if (!ifindex_exists(idx))
            return true;
        usleep(50000);
    }
    return false;
}

static char *file_text(const char *path)
{
    char *t = NULL;
    struct berr e = BERR_INIT;
    must(fs_read_file(AT_FDCWD, path, 1 << 20, &t, NULL, &e), &e);
    return t;
}

static bool in_ipam(struct fx *f, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/network/ipam.json", f->root);
    if (!fs_exists(path))
        return false;
    _cleanup_free_ char *t = file_text(path);
    return strstr(t, name) != NULL;
}

static bool files_left(struct fx *f)
{
    _cleanup_free_ char *dir = xasprintf("%s/build.net", f->runroot);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return false;
    _cleanup_strv_ char **names = fs_list_names(dfd, false);
    close(dfd);
    return names && names[0];
}

/* Nothing of the network rec stands for is left. */
static void gone(struct fx *f, const struct net_record *rec)
{
    struct berr e = BERR_INIT;
    assert_false(link_exists(rec->bridge));
    bool exists = true;
    must(nft_project_exists(rec->project, &exists, &e), &e);
    assert_false(exists);
    struct net_record r2;
    assert_int_equal(net_record_read(f->root, rec->name, &r2, &e), -ENOENT);
    berr_clear(&e);
    assert_false(in_ipam(f, rec->name));
    assert_false(files_left(f));
}

/* After each test: no network of this run is left. What a failed test
 * left (it never reached its close) is removed first, then reported. */
static int nothing_left(void **state)
{
    struct fx *f = *state;
    peer_remove(f);
    struct net_record *v = NULL;
    size_t n = 0;
    struct berr e = BERR_INIT;
    net_record_list(f->root, NULL, &v, &n, &e);
    berr_clear(&e);
    for (size_t i = 0; i < n; i++) {
        link_remove(v[i].bridge, NULL);
        if (v[i].project)
            nft_project_remove(v[i].project, NULL);
        ipam_network_release(f->root, v[i].name, NULL);
        net_record_remove(f->root, v[i].name, NULL);
    }
    bool files = files_left(f);
    _cleanup_free_ char *dir = xasprintf("%s/build.net", f->runroot);
    fs_rm_rf_at(AT_FDCWD, dir, NULL);
    net_record_list_free(v, n);
    if (n > 0)
        fail_msg("%zu build network(s) left", n);
    if (files)
        fail_msg("files left in %s", dir);
    return 0;
}

static void peer_make(struct fx *f)
{
    if (f->peer_made)
        return;
    f->peer_made = true;
    if (sh("ip netns add %s", f->peer_ns) != 0 ||
        sh("ip link add %s type veth peer name %s netns %s", f->peer_host, f->peer_in,
           f->peer_ns) != 0 ||
        sh("ip addr add %s/30 dev %s && ip link set %s up", f->host_addr, f->peer_host,
           f->peer_host) != 0 ||
        sh("ip -n %s addr add %s/30 dev %s && ip -n %s link set %s up && ip -n %s link set lo "
           "up",
           f->peer_ns, f->peer_addr, f->peer_in, f->peer_ns, f->peer_in, f->peer_ns) != 0)
        fail_msg("could not make the peer namespace %s", f->peer_ns);
}

/* The default mode's checks; false when the host's firewall kept egress
 * from being shown. */
static bool bridge_steps(struct fx *f)
{
    struct berr e = BERR_INIT;
    char *const extra[] = {(char *)"db:10.0.0.5", (char *)"gw:host-gateway", NULL};
    _cleanup_(build_net_closep) struct build_net *n = NULL;
    must(build_net_open(f->root, f->runroot, NULL, extra, &n, &e), &e);
    assert_int_equal(build_net_mode(n), BUILD_NET_BRIDGE);
    /* made lazily: nothing yet */
    struct net_record rec = {0};
    assert_false(only_record(f, &rec));

    struct build_net_step a = {0}, b = {0};
    must(build_net_step_begin(n, "stepa", &a, &e), &e);
    must(build_net_step_begin(n, NULL, &b, &e), &e);
    assert_true(only_record(f, &rec));
    assert_int_equal(rec.owner_pid, getpid());
    assert_true(link_exists(rec.bridge));
    assert_non_null(rec.subnet4);
    bool exists = false;
    must(nft_project_exists(rec.project, &exists, &e), &e);
    assert_true(exists);
    _cleanup_free_ char *script = xasprintf("list table inet " NFT_TABLE_PREFIX "%s", rec.project);
    _cleanup_free_ char *listed = NULL;
    must(nft_run(script, &listed, &e), &e);
    _cleanup_free_ char *masq =
        xasprintf("ip saddr %s oifname != \"%s\" masquerade", rec.subnet4, rec.bridge);
    if (!strstr(listed, masq))
        fail_msg("no \"%s\" in\n%s", masq, listed);
    assert_int_equal(read_forwarding(), '1');

    /* each step: an address in the subnet, the default route */
    struct ipam_prefix sub, pa, pb;
    must(ipam_prefix_parse(rec.subnet4, true, "subnet", &sub, &e), &e);
    struct seen sa, sb;
    look_inside(a.netns_path, rec.gateway4, &sa);
    look_inside(b.netns_path, rec.gateway4, &sb);
    must(ipam_addr_parse(sa.addr, "a", &pa, &e), &e);
    must(ipam_addr_parse(sb.addr, "b", &pb, &e), &e);
    assert_true(ipam_prefix_contains(&sub, &pa));
    assert_true(ipam_prefix_contains(&sub, &pb));
    assert_string_not_equal(sa.addr, sb.addr);
    assert_true(sa.default_via_gw);
    assert_true(sb.default_via_gw);
    assert_true(ifindex_exists(sa.host_ifindex));
    assert_true(ifindex_exists(sb.host_ifindex));

    /* the files */
    _cleanup_free_ char *hostname = file_text(a.hostname);
    assert_string_equal(hostname, "stepa\n");
    _cleanup_free_ char *hostname_b = file_text(b.hostname);
    assert_string_equal(hostname_b, "buildkitsandbox\n");
    _cleanup_free_ char *hosts = file_text(a.hosts);
    _cleanup_free_ char *own = xasprintf("\n%s\tstepa\n", sa.addr);
    _cleanup_free_ char *gwline = xasprintf("\n%s\tgw\n", rec.gateway4);
    assert_non_null(strstr(hosts, "127.0.0.1\tlocalhost\n"));
    assert_non_null(strstr(hosts, "\n10.0.0.5\tdb\n"));
    assert_non_null(strstr(hosts, own));
    assert_non_null(strstr(hosts, gwline));
    _cleanup_free_ char *resolv = file_text(a.resolv_conf);
    assert_null(strstr(resolv, "nameserver 127."));
    assert_non_null(strstr(resolv, "nameserver "));

    /* a step reaches the other step and the gateway (the bridge's
     * address, on the host), from its own address */
    int rfd;
    char who[INET_ADDRSTRLEN];
    pid_t srv = serve_once(b.netns_path, sb.addr, 4711, &rfd);
    assert_int_equal(connect_from(a.netns_path, sb.addr, 4711), 0);
    served(srv, rfd, who);
    assert_string_equal(who, sa.addr);
    srv = serve_once(NULL, rec.gateway4, 4712, &rfd);
    assert_int_equal(connect_from(b.netns_path, rec.gateway4, 4712), 0);
    served(srv, rfd, who);
    assert_string_equal(who, sb.addr);

    /* egress: past the host, the source is the host's address on that
     * link (masqueraded), never the step's */
    _cleanup_free_ char *blocked = NULL;
    const char *const bridges[] = {rec.bridge, NULL};
    bool fw_drops = nft_forward_blocked(bridges, &blocked, NULL) == 1;
    if (fw_drops) {
        /* a prerequisite of the host's: said, the rest still checked */
        print_message("the host's firewall drops forwarding (%s): egress not checked\n", blocked);
    } else {
        peer_make(f);
        _cleanup_free_ char *peer_path = xasprintf("/run/netns/%s", f->peer_ns);
        srv = serve_once(peer_path, f->peer_addr, 4713, &rfd);
        assert_int_equal(connect_from(a.netns_path, f->peer_addr, 4713), 0);
        served(srv, rfd, who);
        assert_string_equal(who, f->host_addr);
        peer_remove(f);
    }

    /* a step's end: its namespace and veth, its address */
    _cleanup_free_ char *bhosts = xstrdup(b.hosts);
    build_net_step_end(n, &b);
    assert_false(fs_exists(bhosts));
    assert_true(fs_exists(a.hosts));
    assert_null(b.name);
    assert_null(b.netns_path);
    assert_true(ifindex_gone(sb.host_ifindex));
    _cleanup_strv_ char **users = NULL;
    must(ipam_network_users(f->root, rec.name, &users, &e), &e);
    assert_non_null(users);
    assert_string_equal(users[0], a.name);
    assert_null(users[1]);

    /* close: everything, the step still open too */
    build_net_close(TAKE_PTR(n));
    assert_true(ifindex_gone(sa.host_ifindex));
    gone(f, &rec);
    build_net_step_end(NULL, &a);
    net_record_free(&rec);
    return !fw_drops;
}

static void test_bridge_steps(void **state)
{
    /* skip() jumps: called once everything above is freed */
    if (!bridge_steps(*state))
        skip(); /* counted as skipped: egress was not shown */
}

static void test_host_and_none(void **state)
{
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    char *const extra[] = {(char *)"db:10.0.0.5", NULL};
    _cleanup_(build_net_closep) struct build_net *h = NULL;
    must(build_net_open(f->root, f->runroot, "host", extra, &h, &e), &e);
    assert_int_equal(build_net_mode(h), BUILD_NET_HOST);
    struct build_net_step s = {0};
    must(build_net_step_begin(h, "hoststep", &s, &e), &e);
    assert_null(s.netns_path);
    _cleanup_free_ char *hosts = file_text(s.hosts);
    _cleanup_free_ char *host_hosts = file_text("/etc/hosts");
    assert_int_equal(strncmp(hosts, host_hosts, strlen(host_hosts)), 0);
    assert_non_null(strstr(hosts, "10.0.0.5\tdb\n"));
    _cleanup_(net_resolv_free) struct net_resolv rc = {0};
    _cleanup_free_ char *host_resolv = NULL;
    must(net_resolv_load("/etc/resolv.conf", NET_RESOLVED_STUB_PATH, &rc, &host_resolv, NULL, &e),
         &e);
    _cleanup_free_ char *resolv = file_text(s.resolv_conf);
    assert_string_equal(resolv, host_resolv);
    struct net_record rec;
    assert_false(only_record(f, &rec)); /* no network for the host's */
    build_net_step_end(h, &s);
    build_net_close(TAKE_PTR(h));
    assert_false(files_left(f));

    _cleanup_(build_net_closep) struct build_net *none = NULL;
    must(build_net_open(f->root, f->runroot, "none", NULL, &none, &e), &e);
    assert_int_equal(build_net_mode(none), BUILD_NET_NONE);
    must(build_net_step_begin(none, "nonestep", &s, &e), &e);
    assert_null(s.netns_path);
    _cleanup_free_ char *hosts2 = file_text(s.hosts);
    assert_non_null(strstr(hosts2, "127.0.0.1\tlocalhost\n"));
    assert_null(strstr(hosts2, "nonestep"));
    _cleanup_free_ char *resolv2 = file_text(s.resolv_conf);
    assert_null(strstr(resolv2, "nameserver"));
    assert_false(only_record(f, &rec));
    /* closed with the step still open: its files go too */
    build_net_close(TAKE_PTR(none));
    assert_false(files_left(f));
    build_net_step_end(NULL, &s);
}

static void refused(struct fx *f, const char *mode, char *const *extra, const char *needle)
{
    struct berr e = BERR_INIT;
    struct build_net *n = (struct build_net *)1;
    assert_true(build_net_open(f->root, f->runroot, mode, extra, &n, &e) < 0);
    assert_null(n);
    if (!e.msg || !strstr(e.msg, needle))
        fail_msg("error \"%s\" does not name \"%s\"", e.msg ? e.msg : "", needle);
    assert_null(strchr(e.msg, '\n'));
    berr_clear(&e);
}

static void test_bad_input(void **state)
{
    struct fx *f = *state;
    refused(f, "bridgex", NULL, "\"bridgex\"");
    refused(f, "", NULL, "\"\"");
    char *const bad[] = {(char *)"evil\n6.6.6.6 x:10.0.0.1", NULL};
    refused(f, NULL, bad, "extra_hosts entry");
    char *const gw[] = {(char *)"gw:host-gateway", NULL};
    refused(f, "none", gw, "host-gateway");
    /* a hostname that would add a line: refused, nothing left */
    struct berr e = BERR_INIT;
    _cleanup_(build_net_closep) struct build_net *n = NULL;
    must(build_net_open(f->root, f->runroot, NULL, NULL, &n, &e), &e);
    struct build_net_step s = {0};
    assert_true(build_net_step_begin(n, "a\nb", &s, &e) < 0);
    assert_non_null(strstr(e.msg, "hostname"));
    berr_clear(&e);
    assert_null(s.name);
    struct net_record rec;
    assert_false(only_record(f, &rec));
    build_net_close(TAKE_PTR(n));
    assert_false(files_left(f));
}

static void test_killed_build(void **state)
{
    struct fx *f = *state;
    int rfd = -1, wfd = -1;
    pid_t pid = fork_piped(&rfd, &wfd);
    if (pid == 0) {
        struct berr e = BERR_INIT;
        struct build_net *n = NULL;
        struct build_net_step s = {0};
        if (build_net_open(f->root, f->runroot, NULL, NULL, &n, &e) < 0 ||
            build_net_step_begin(n, NULL, &s, &e) < 0)
            _exit(1);
        _exit(write(wfd, "k", 1) == 1 ? 0 : 1); /* killed: no close */
    }
    char c;
    assert_int_equal(read(rfd, &c, 1), 1);
    close(rfd);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct net_record rec = {0};
    assert_true(only_record(f, &rec));
    assert_int_equal(rec.owner_pid, pid);
    assert_true(link_exists(rec.bridge));
    assert_true(in_ipam(f, rec.name));
    assert_true(files_left(f));

    /* the next build removes it all */
    struct berr e = BERR_INIT;
    _cleanup_(build_net_closep) struct build_net *n = NULL;
    must(build_net_open(f->root, f->runroot, NULL, NULL, &n, &e), &e);
    gone(f, &rec);
    build_net_close(TAKE_PTR(n));
    net_record_free(&rec);
}

int main(void)
{
    /* Bridges, namespaces and nftables need root: without it nothing here
     * can run, and ctest counts the run as skipped (SKIP_RETURN_CODE). */
    if (geteuid() != 0) {
        printf("SKIPPED: test_build_net needs root\n");
        return 77;
    }
    /* iproute2 (the peer namespace) and nsenter (a veth's host side) */
    if (sh("command -v ip >/dev/null && command -v nsenter >/dev/null") != 0) {
        printf("SKIPPED: test_build_net needs ip (iproute2) and nsenter (util-linux)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bridge_steps, nothing_left),
        cmocka_unit_test_teardown(test_host_and_none, nothing_left),
        cmocka_unit_test_teardown(test_bad_input, nothing_left),
        cmocka_unit_test_teardown(test_killed_build, nothing_left),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
