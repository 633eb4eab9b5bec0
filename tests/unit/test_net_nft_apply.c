/* SPDX-License-Identifier: Apache-2.0 */
/* net/nft.h against the kernel, as root (skipped otherwise): a project's
 * table applied, listed back, applied again (idempotent), replaced,
 * removed, with tables outside berth's names untouched; then real traffic
 * through the rules, all inside namespaces this test makes itself: a
 * "host" netns H (bridge br0 10.215.X.1/24, veth ha 10.214.X.1/24), an
 * "outside" netns A on ha's peer (10.214.X.2) and a "container" netns B on
 * the bridge (10.215.X.2, a TCP echo listener on port 80). No address of
 * the real host is ever sent traffic, and the real host's ip_forward is
 * never touched (H's own is turned on). Not here: the script's text (pure,
 * test_net_nft.c). */
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

#define HOST_PORT 8088

/* The test's names: this process's pid in each (a second run at the same
 * time, or a leftover, never collides). */
struct names {
    char project[32], foreign[32], ns_h[32], ns_a[32], ns_b[32];
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
    has(first, "oifname \"br-bttest0\" iifname != \"br-bttest0\" ct state new ct status ! dnat "
               "drop");
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

/* A child in ns B echoing one byte per connection on port 80 until
 * killed; returns its pid once it listens. */
static pid_t echo_server(const char *ns)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        int s = -1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
        if (enter_ns(ns) < 0 || (s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
            bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        for (;;) {
            int c = accept(s, NULL, NULL);
            char b;
            if (c >= 0 && read(c, &b, 1) == 1 && write(c, &b, 1) == 1)
                close(c);
        }
    }
    close(ready[1]);
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);
    close(ready[0]);
    return pid;
}

/* Whether a byte sent from ns to addr:port comes back within 2 s. */
static bool echoes(const char *ns, const char *addr, unsigned port)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        inet_pton(AF_INET, addr, &a.sin_addr);
        int s;
        if (enter_ns(ns) < 0 || (s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
            _exit(2);
        if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
            _exit(1);
        struct pollfd p = {s, POLLOUT, 0};
        if (poll(&p, 1, 2000) != 1)
            _exit(1);
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
            _exit(1);
        char b = 'x';
        p.events = POLLIN;
        if (write(s, &b, 1) != 1 || poll(&p, 1, 2000) != 1 || read(s, &b, 1) != 1 || b != 'x')
            _exit(1);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 2);
    return WEXITSTATUS(st) == 0;
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
    sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null",
       n->ns_h, n->ns_a, n->ns_b);
}

static int teardown_namespaces(void **state)
{
    struct names n = names_of();
    remove_namespaces(&n);
    return 0;
}

static void make_namespaces(const struct names *n)
{
    unsigned x = n->x;
    const char *h = n->ns_h, *a = n->ns_a, *b = n->ns_b;
    /* A keeps its loopback down: with no local 127.0.0.0/8 route there,
     * it can send to 127.0.0.1 through H, as a LAN neighbour of a real
     * host can (route_localnet on A's own interface, in A). */
    int r = sh("set -e; ip netns add %s; ip netns add %s; ip netns add %s\n"
               "ip -n %s link set lo up; ip -n %s link set lo up\n"
               "ip -n %s link add ha type veth peer name eth0 netns %s\n"
               "ip -n %s addr add 10.214.%u.1/24 dev ha; ip -n %s link set ha up\n"
               "ip -n %s addr add 10.214.%u.2/24 dev eth0; ip -n %s link set eth0 up\n"
               "ip -n %s route add 10.215.%u.0/24 via 10.214.%u.1\n"
               "ip netns exec %s sysctl -qw net.ipv4.conf.eth0.route_localnet=1\n"
               "ip -n %s route add 127.0.0.1/32 via 10.214.%u.1 dev eth0\n"
               "ip -n %s link add br0 type bridge; ip -n %s addr add 10.215.%u.1/24 dev br0\n"
               "ip -n %s link set br0 up\n"
               "ip -n %s link add hb type veth peer name eth0 netns %s\n"
               "ip -n %s link set hb master br0; ip -n %s link set hb up\n"
               "ip -n %s addr add 10.215.%u.2/24 dev eth0; ip -n %s link set eth0 up\n"
               "ip -n %s route add default via 10.215.%u.1\n"
               "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1\n",
               h, a, b, h, b, h, a, h, x, h, a, x, a, a, x, x, a, a, x, h, h, x, h, h, b, h, h, b,
               x, b, b, x, h);
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

/* The published port reaches the container from outside and from the
 * host's own address; a new connection straight to the container is
 * dropped; loopback is never DNAT'ed, neither from the host nor arriving
 * from a neighbour (N07, CVE-2020-8558). */
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
    char subnet[32], ctr[32], hostaddr[32], direct[32];
    snprintf(subnet, sizeof subnet, "10.215.%u.0/24", n.x);
    snprintf(ctr, sizeof ctr, "10.215.%u.2", n.x);
    snprintf(hostaddr, sizeof hostaddr, "10.214.%u.1", n.x);
    snprintf(direct, sizeof direct, "10.215.%u.2", n.x);
    const struct nft_net net = {.bridge = "br0", .subnet4 = subnet};
    const struct nft_port port = {IPPROTO_TCP, NULL, HOST_PORT, ctr, NULL, 80, "br0"};
    struct nft_project p = {n.project, &net, 1, &port, 1};
    pid_t srv = echo_server(n.ns_b);

    /* Without the rules, the direct path is open (the drop below is the
     * table's doing) and the port is closed. */
    bool direct_before = echoes(n.ns_a, direct, 80);
    bool published_before = echoes(n.ns_a, hostaddr, HOST_PORT);
    apply_in(n.ns_h, &p);
    bool published = echoes(n.ns_a, hostaddr, HOST_PORT);
    bool from_host = echoes(n.ns_h, hostaddr, HOST_PORT);
    bool direct_after = echoes(n.ns_a, direct, 80);
    bool lo_from_host = echoes(n.ns_h, "127.0.0.1", HOST_PORT);
    bool lo_from_neighbour = echoes(n.ns_a, "127.0.0.1", HOST_PORT);

    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    remove_namespaces(&n);
    _cleanup_free_ char *forward_after = read_forward();

    assert_true(direct_before);
    assert_false(published_before);
    if (!published)
        fail_msg("FAIL published port %s:%d did not reach the container", hostaddr, HOST_PORT);
    if (!from_host)
        fail_msg("FAIL published port %s:%d from the host did not reach the container", hostaddr,
                 HOST_PORT);
    if (direct_after)
        fail_msg("FAIL a new connection from outside straight to %s:80 was not dropped", direct);
    if (lo_from_host)
        fail_msg("FAIL the host's 127.0.0.1:%d was DNAT'ed to the container", HOST_PORT);
    if (lo_from_neighbour)
        fail_msg("FAIL 127.0.0.1:%d sent by a neighbour reached the container (N07)", HOST_PORT);
    /* Nothing left: the namespaces (with their links and the table) are
     * gone, and the real host's forwarding is as it was. */
    _cleanup_free_ char *h = xasprintf("/run/netns/%s", n.ns_h);
    _cleanup_free_ char *a = xasprintf("/run/netns/%s", n.ns_a);
    _cleanup_free_ char *b = xasprintf("/run/netns/%s", n.ns_b);
    assert_int_not_equal(access(h, F_OK), 0);
    assert_int_not_equal(access(a, F_OK), 0);
    assert_int_not_equal(access(b, F_OK), 0);
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
