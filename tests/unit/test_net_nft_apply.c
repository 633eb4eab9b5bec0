/* SPDX-License-Identifier: Apache-2.0 */
/* net/nft.h against the kernel, as root (skipped otherwise): a project's
 * table applied, listed back, applied again (idempotent), replaced,
 * removed, with tables outside berth's names untouched; then real traffic
 * through the rules, all inside namespaces this test makes itself: a
 * "host" netns H (veth ha 10.214.X.1/24, bridges br0 10.215.X.1/24 and
 * br1 10.217.X.1/24, the latter internal), an "outside" netns A on ha's
 * peer (10.214.X.2), and "container" netns B on br0 and C on br1 (.2 each,
 * TCP listeners on port 80, UDP on 5353 in C). No address of the real host is ever sent
 * traffic, and the real host's ip_forward is never touched (H's own is
 * turned on). Not here: the script's text (pure, test_net_nft.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka after the headers it needs */
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
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

#include "net/nft.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define HOST_PORT    8088
#define OUTSIDE_PORT 7000

/* The test's names: this process's pid in each (a second run at the same
 * time, or a leftover, never collides). */
struct names {
    char project[32], foreign[32], ns_h[32], ns_a[32], ns_b[32], ns_c[32];
    unsigned x; /* the third octet of the test's subnets */
};

static struct names names_of(void)
{
    struct names n;
    int pid = (int)getpid();
    snprintf(n.project, sizeof n.project, "bt%d", pid);
    snprintf(n.foreign, sizeof n.foreign, "btforeign%d", pid);
    snprintf(n.ns_h, sizeof n.ns_h, "bt%dh", pid);
    snprintf(n.ns_a, sizeof n.ns_a, "bt%da", pid);
    snprintf(n.ns_b, sizeof n.ns_b, "bt%db", pid);
    snprintf(n.ns_c, sizeof n.ns_c, "bt%dc", pid);
    n.x = (unsigned)pid % 250 + 1;
    return n;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *cmd = xvasprintf(fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool can_run(void)
{
    return geteuid() == 0 && sh("command -v ip >/dev/null 2>&1") == 0;
}

static char *run_ok(const char *script)
{
    char *out = NULL;
    struct berr e = BERR_INIT;
    if (nft_run(script, &out, &e) < 0)
        fail_msg("nft %s: %s", script, e.msg);
    return out;
}

static void has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("no \"%s\" in:\n%s", needle, text);
}

static bool table_exists(const char *project)
{
    bool ex = true;
    struct berr e = BERR_INIT;
    if (nft_project_exists(project, &ex, &e) < 0)
        fail_msg("nft_project_exists: %s", e.msg);
    return ex;
}

/* The foreign tables this test makes (the teardown removes them): one
 * outside berth's names, one with berth's name in another family. */
static void foreign_tables(const struct names *n)
{
    _cleanup_free_ char *s =
        xasprintf("table inet %s { chain c { type filter hook input priority 0; policy "
                  "accept; tcp dport 9 counter; }; }\ntable ip berth-%s\n",
                  n->foreign, n->project);
    free(run_ok(s));
}

static void foreign_untouched(const struct names *n)
{
    _cleanup_free_ char *cmd = xasprintf("list table inet %s", n->foreign);
    _cleanup_free_ char *out = run_ok(cmd);
    has(out, "tcp dport 9 counter");
    _cleanup_free_ char *cmd2 = xasprintf("list table ip berth-%s", n->project);
    free(run_ok(cmd2));
}

static int teardown_tables(void **state)
{
    struct names n = names_of();
    _cleanup_free_ char *s = xasprintf("table inet %s\ndelete table inet %s\ntable ip berth-%s\n"
                                       "delete table ip berth-%s\n",
                                       n.foreign, n.foreign, n.project, n.project);
    nft_run(s, NULL, NULL);
    nft_project_remove(n.project, NULL);
    return 0;
}

/* Applies, lists back, applies again, replaces, removes, in the real
 * host's netns; only the test's own tables are ever named. */
static void test_apply_list_remove(void **state)
{
    if (!can_run()) {
        skip();
        return;
    }
    struct names n = names_of();
    foreign_tables(&n);
    const struct nft_net nets[] = {
        {.bridge = "br-bttest0", .subnet4 = "10.216.1.0/24", .subnet6 = "fd42:216:1::/64"},
        {.bridge = "br-bttest1", .subnet4 = "10.216.2.0/24", .internal = true},
    };
    const struct nft_port ports[] = {
        {IPPROTO_TCP, NULL, 18080, "10.216.1.2", "fd42:216:1::2", 80, "br-bttest0"},
        {IPPROTO_UDP, "192.0.2.7", 15353, "10.216.1.2", NULL, 53, "br-bttest0"},
    };
    struct nft_project p = {n.project, nets, 2, ports, 2};
    struct berr e = BERR_INIT;
    if (nft_project_apply(&p, &e) < 0)
        fail_msg("apply: %s", e.msg);
    assert_true(table_exists(n.project));

    _cleanup_free_ char *list_cmd = xasprintf("list table inet berth-%s", n.project);
    _cleanup_free_ char *first = run_ok(list_cmd);
    has(first, "iifname != \"br-bttest0\" tcp dport 18080 dnat ip to 10.216.1.2:80");
    has(first, "tcp dport 18080 dnat ip6 to [fd42:216:1::2]:80");
    has(first, "ip daddr != 127.0.0.0/8 tcp dport 18080 dnat ip to 10.216.1.2:80");
    has(first, "ip daddr 192.0.2.7 iifname != \"br-bttest0\" udp dport 15353 dnat ip to "
               "10.216.1.2:53");
    has(first, "ip saddr 10.216.1.0/24 oifname != \"br-bttest0\" masquerade");
    has(first, "ip6 saddr fd42:216:1::/64 oifname != \"br-bttest0\" masquerade");
    has(first, "oifname \"br-bttest0\" iifname != \"br-bttest0\" ct state != { "
               "established, related } ct status ! dnat drop");
    has(first, "iifname \"br-bttest1\" oifname != \"br-bttest1\" drop");
    has(first, "oifname \"br-bttest1\" iifname != \"br-bttest1\" drop");

    /* Twice: the same table, no rule doubled. */
    if (nft_project_apply(&p, &e) < 0)
        fail_msg("second apply: %s", e.msg);
    _cleanup_free_ char *second = run_ok(list_cmd);
    assert_string_equal(first, second);

    /* Replaced whole: the udp port gone is gone from the kernel. */
    p.n_ports = 1;
    if (nft_project_apply(&p, &e) < 0)
        fail_msg("third apply: %s", e.msg);
    _cleanup_free_ char *third = run_ok(list_cmd);
    assert_null(strstr(third, "15353"));
    has(third, "dport 18080");

    _cleanup_strv_ char **tables = NULL;
    if (nft_tables_list(&tables, &e) < 0)
        fail_msg("list: %s", e.msg);
    _cleanup_free_ char *own = xasprintf("berth-%s", n.project);
    assert_true(strv_contains(tables, own));
    assert_false(strv_contains(tables, n.foreign));

    if (nft_project_remove(n.project, &e) < 0)
        fail_msg("remove: %s", e.msg);
    assert_false(table_exists(n.project));
    /* None left: removing again is no error. */
    if (nft_project_remove(n.project, &e) < 0)
        fail_msg("second remove: %s", e.msg);
    foreign_untouched(&n);
}

/* --- Traffic through the rules, in the test's own namespaces ---------- */

static int enter_ns(const char *ns)
{
    _cleanup_free_ char *path = xasprintf("/run/netns/%s", ns);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
        return -1;
    return 0;
}

/* A child in ns answering one byte per TCP connection on port until
 * killed: the byte it got, or with peer_octet the last octet of the
 * peer's address (who the connection seemed to come from). Returns its
 * pid once it listens. */
static pid_t server(const char *ns, unsigned port, bool peer_octet)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        int s = -1, one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        if (enter_ns(ns) < 0 || (s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        for (;;) {
            struct sockaddr_in peer;
            socklen_t len = sizeof peer;
            int c = accept(s, (struct sockaddr *)&peer, &len);
            unsigned char b;
            if (c < 0)
                continue;
            if (read(c, &b, 1) == 1) {
                if (peer_octet)
                    b = ((unsigned char *)&peer.sin_addr)[3];
                if (write(c, &b, 1) != 1)
                    _exit(1);
            }
            close(c);
        }
    }
    close(ready[1]);
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    close(ready[0]);
    return pid;
}

static void stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Sends 'x' from ns to addr:port over TCP: the byte answered within 1 s,
 * or -1 (no connection, no answer). */
static int talk(const char *ns, const char *addr, unsigned port)
{
    int res[2];
    assert_int_equal(pipe(res), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(res[0]);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, addr, &a.sin_addr);
        int s;
        if (enter_ns(ns) < 0 || (s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
            _exit(2);
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
            _exit(0);
        struct pollfd p = {s, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&p, 1, 1000) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
            err != 0)
            _exit(0);
        char b = 'x';
        p.events = POLLIN;
        if (write(s, &b, 1) == 1 && poll(&p, 1, 1000) == 1 && read(s, &b, 1) == 1 &&
            write(res[1], &b, 1) != 1)
            _exit(2);
        _exit(0);
    }
    close(res[1]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unsigned char b;
    int r = read(res[0], &b, 1) == 1 ? b : -1;
    close(res[0]);
    return r;
}

/* Whether a UDP datagram sent from ns_send to addr:port arrives at a
 * receiver in ns_recv within 1 s (one-way: no answer is needed, so a rule
 * that only drops the answers would not hide it). */
static bool udp_arrives(const char *ns_send, const char *ns_recv, const char *addr, unsigned port)
{
    int got[2];
    assert_int_equal(pipe(got), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    pid_t rcv = fork();
    assert_true(rcv >= 0);
    if (rcv == 0) {
        close(got[0]);
        struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(port)};
        int s;
        char b;
        if (enter_ns(ns_recv) < 0 || (s = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
            bind(s, (struct sockaddr *)&any, sizeof any) < 0 || write(got[1], "r", 1) != 1)
            _exit(2);
        if (recv(s, &b, 1, 0) == 1 && write(got[1], &b, 1) != 1)
            _exit(2);
        _exit(0);
    }
    close(got[1]);
    char b = 0;
    assert_int_equal(read(got[0], &b, 1), 1);
    pid_t snd = fork();
    assert_true(snd >= 0);
    if (snd == 0) {
        int s;
        if (enter_ns(ns_send) < 0 || (s = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
            _exit(2);
        _exit(sendto(s, "u", 1, 0, (struct sockaddr *)&a, sizeof a) == 1 ? 0 : 2);
    }
    int st;
    assert_int_equal(waitpid(snd, &st, 0), snd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct pollfd p = {got[0], POLLIN, 0};
    bool arrived = poll(&p, 1, 1000) == 1 && read(got[0], &b, 1) == 1 && b == 'u';
    close(got[0]);
    stop(rcv);
    return arrived;
}

/* nft_project_apply run inside ns. */
static void apply_in(const char *ns, const struct nft_project *p)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct berr e = BERR_INIT;
        if (enter_ns(ns) < 0)
            _exit(2);
        if (nft_project_apply(p, &e) < 0) {
            fprintf(stderr, "apply in %s: %s\n", ns, e.msg);
            _exit(1);
        }
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void remove_namespaces(const struct names *n)
{
    const char *all[] = {n->ns_h, n->ns_a, n->ns_b, n->ns_c};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        sh("ip netns del %s 2>/dev/null", all[i]);
}

static int teardown_namespaces(void **state)
{
    struct names n = names_of();
    remove_namespaces(&n);
    return 0;
}

/* H: ha 10.214.X.1 (to A), br0 10.215.X.1 (B's network), br1 10.217.X.1
 * (C's, internal). A: 10.214.X.2, routes to both bridges' subnets via H
 * (as a router's neighbour would have). B and C: .2 on their bridge,
 * default route via H. */
static void make_namespaces(const struct names *n)
{
    unsigned x = n->x;
    const char *h = n->ns_h, *a = n->ns_a, *b = n->ns_b, *c = n->ns_c;
    int r = sh("set -e; for ns in %s %s %s %s; do ip netns add $ns; done\n"
               "ip -n %s link set lo up; ip -n %s link set lo up; ip -n %s link set lo up\n"
               "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1\n",
               h, a, b, c, h, b, c, h);
    /* A keeps its loopback down: with no local 127.0.0.0/8 route there,
     * it can send to 127.0.0.1 through H, as a LAN neighbour of a real
     * host can (route_localnet on A's own interface, in A). */
    r = r
            ?: sh("set -e; ip -n %s link add ha type veth peer name eth0 netns %s\n"
                  "ip -n %s addr add 10.214.%u.1/24 dev ha; ip -n %s link set ha up\n"
                  "ip -n %s addr add 10.214.%u.2/24 dev eth0; ip -n %s link set eth0 up\n"
                  "ip -n %s route add 10.215.%u.0/24 via 10.214.%u.1\n"
                  "ip -n %s route add 10.217.%u.0/24 via 10.214.%u.1\n"
                  "ip netns exec %s sysctl -qw net.ipv4.conf.eth0.route_localnet=1\n"
                  "ip -n %s route add 127.0.0.1/32 via 10.214.%u.1 dev eth0\n",
                  h, a, h, x, h, a, x, a, a, x, x, a, x, x, a, a, x);
    for (unsigned i = 0; i < 2 && !r; i++)
        r = sh("set -e; ip -n %s link add br%u type bridge\n"
               "ip -n %s addr add 10.%u.%u.1/24 dev br%u; ip -n %s link set br%u up\n"
               "ip -n %s link add h%u type veth peer name eth0 netns %s\n"
               "ip -n %s link set h%u master br%u; ip -n %s link set h%u up\n"
               "ip -n %s addr add 10.%u.%u.2/24 dev eth0; ip -n %s link set eth0 up\n"
               "ip -n %s route add default via 10.%u.%u.1\n",
               h, i, h, 215 + 2 * i, x, i, h, i, h, i, i ? c : b, h, i, i, h, i, i ? c : b,
               215 + 2 * i, x, i ? c : b, i ? c : b, 215 + 2 * i, x);
    if (r != 0)
        fail_msg("making the test's namespaces failed (%d)", r);
}

static char *read_forward(void)
{
    char *s = NULL;
    if (fs_read_file(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", 64, &s, NULL, NULL) < 0)
        fail_msg("cannot read ip_forward");
    return s;
}

/* What each path answered (-1: nothing), before and with the table. */
struct paths {
    int published, from_host, direct, lo_from_host, lo_from_neighbour;
    int egress, internal_egress;
    bool internal_ingress;
};

static struct paths try_paths(const struct names *n)
{
    char hostaddr[32], direct[32], outside[32], internal[32];
    snprintf(hostaddr, sizeof hostaddr, "10.214.%u.1", n->x);
    snprintf(outside, sizeof outside, "10.214.%u.2", n->x);
    snprintf(direct, sizeof direct, "10.215.%u.2", n->x);
    snprintf(internal, sizeof internal, "10.217.%u.2", n->x);
    return (struct paths){
        .published = talk(n->ns_a, hostaddr, HOST_PORT),
        .from_host = talk(n->ns_h, hostaddr, HOST_PORT),
        .direct = talk(n->ns_a, direct, 80),
        .lo_from_host = talk(n->ns_h, "127.0.0.1", HOST_PORT),
        .lo_from_neighbour = talk(n->ns_a, "127.0.0.1", HOST_PORT),
        .egress = talk(n->ns_b, outside, OUTSIDE_PORT),
        .internal_egress = talk(n->ns_c, outside, OUTSIDE_PORT),
        .internal_ingress = udp_arrives(n->ns_a, n->ns_c, internal, 5353),
    };
}

/* The published port reaches the container from outside and from the
 * host's own address; a new connection straight to the container is
 * dropped; loopback is never DNAT'ed, neither from the host nor arriving
 * from a neighbour (N07, CVE-2020-8558); egress is masqueraded; an
 * internal network reaches nothing outside and nothing reaches it. */
static void test_dnat_and_isolation(void **state)
{
    if (!can_run()) {
        skip();
        return;
    }
    struct names n = names_of();
    _cleanup_free_ char *forward_before = read_forward();
    remove_namespaces(&n);
    make_namespaces(&n);
    char subnet[32], subnet_in[32], ctr[32], ctr_in[32];
    snprintf(subnet, sizeof subnet, "10.215.%u.0/24", n.x);
    snprintf(subnet_in, sizeof subnet_in, "10.217.%u.0/24", n.x);
    snprintf(ctr, sizeof ctr, "10.215.%u.2", n.x);
    snprintf(ctr_in, sizeof ctr_in, "10.217.%u.2", n.x);
    const struct nft_net nets[] = {
        {.bridge = "br0", .subnet4 = subnet},
        {.bridge = "br1", .subnet4 = subnet_in, .internal = true},
    };
    const struct nft_port ports[] = {
        {IPPROTO_TCP, NULL, HOST_PORT, ctr, NULL, 80, "br0"},
        {IPPROTO_TCP, NULL, HOST_PORT + 1, ctr_in, NULL, 80, "br1"},
    };
    struct nft_project p = {n.project, nets, 2, ports, 2};
    pid_t srv_b = server(n.ns_b, 80, false);
    pid_t srv_c = server(n.ns_c, 80, false);
    pid_t srv_a = server(n.ns_a, OUTSIDE_PORT, true);

    /* Without the table every path but the port is open, unmasqueraded
     * (the drops below are the table's doing). */
    struct paths before = try_paths(&n);
    apply_in(n.ns_h, &p);
    struct paths with = try_paths(&n);

    stop(srv_a);
    stop(srv_b);
    stop(srv_c);
    remove_namespaces(&n);
    _cleanup_free_ char *forward_after = read_forward();

    assert_int_equal(before.published, -1);
    assert_int_equal(before.direct, 'x');
    assert_int_equal(before.egress, 2);
    assert_int_equal(before.internal_egress, 2);
    assert_true(before.internal_ingress);
    if (with.published != 'x')
        fail_msg("FAIL published port 10.214.%u.1:%d did not reach the container", n.x, HOST_PORT);
    if (with.from_host != 'x')
        fail_msg("FAIL published port 10.214.%u.1:%d from the host did not reach the container",
                 n.x, HOST_PORT);
    if (with.direct != -1)
        fail_msg("FAIL a new connection from outside straight to %s:80 was not dropped", ctr);
    if (with.lo_from_host != -1)
        fail_msg("FAIL the host's 127.0.0.1:%d was DNAT'ed to the container", HOST_PORT);
    if (with.lo_from_neighbour != -1)
        fail_msg("FAIL 127.0.0.1:%d sent by a neighbour reached the container (N07)", HOST_PORT);
    if (with.egress != 1)
        fail_msg("FAIL egress from the container arrived from .%d, not masqueraded as .1",
                 with.egress);
    if (with.internal_egress != -1)
        fail_msg("FAIL a container on an internal network reached the outside");
    if (with.internal_ingress)
        fail_msg("FAIL the outside reached a container on an internal network");
    /* Nothing left: the namespaces (with their links and the table) are
     * gone, and the real host's forwarding is as it was. */
    const char *all[] = {n.ns_h, n.ns_a, n.ns_b, n.ns_c};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        _cleanup_free_ char *path = xasprintf("/run/netns/%s", all[i]);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    assert_string_equal(forward_before, forward_after);
    assert_false(table_exists(n.project));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_apply_list_remove, teardown_tables),
        cmocka_unit_test_teardown(test_dnat_and_isolation, teardown_namespaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
