/* SPDX-License-Identifier: Apache-2.0 */
/* The formatting of a container's ports (cmd/ps_ports.c): ps's PORTS
 * text, the JSON Publishers, port's answer and its error's list, and the
 * run state's ports through its JSON. The bindings themselves are tested
 * with real containers in tests/integration/test_net_port.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ps_ports.h"
#include "engine/supervise/records.h"

static void two_ports(struct run_state *st)
{
    memset(st, 0, sizeof *st);
    st->ports[0] =
        (struct run_port){.host_ip = "", .host_port = 8080, .ctr_port = 80, .proto = IPPROTO_TCP};
    st->ports[1] = (struct run_port){
        .host_ip = "127.0.0.1", .host_port = 9000, .ctr_port = 9000, .proto = IPPROTO_UDP};
    st->n_ports = 2;
}

static void test_text(void **state)
{
    (void)state;
    struct run_state st;
    two_ports(&st);
    char *expose[] = {"80", "81/udp", "90-91", "bad", "80/udp", NULL};
    char *s = ps_ports_text(&st, expose);
    assert_string_equal(
        s, "0.0.0.0:8080->80/tcp, 127.0.0.1:9000->9000/udp, 81/udp, 90/tcp, 91/tcp, 80/udp");
    free(s);
    struct run_state none = {0};
    s = ps_ports_text(&none, NULL);
    assert_string_equal(s, "");
    free(s);
}

/* A port bound on :: as well (a container with an IPv6 address): its own
 * binding, bracketed in the text as docker shows it, URL "::" in JSON;
 * `port` answers the IPv4 one, as docker compose does. */
static void test_v6(void **state)
{
    (void)state;
    struct run_state st;
    two_ports(&st);
    st.ports[2] = st.ports[0];
    snprintf(st.ports[2].host_ip, sizeof st.ports[2].host_ip, "::");
    snprintf(st.ports[1].host_ip, sizeof st.ports[1].host_ip, "::1");
    st.n_ports = 3;
    char *s = ps_ports_text(&st, NULL);
    assert_string_equal(s, "0.0.0.0:8080->80/tcp, [::1]:9000->9000/udp, [::]:8080->80/tcp");
    free(s);
    json_t *a = ps_ports_publishers(&st, NULL);
    s = json_dumps(json_array_get(a, 2), JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(
        s, "{\"URL\":\"::\",\"TargetPort\":80,\"PublishedPort\":8080,\"Protocol\":\"tcp\"}");
    free(s);
    json_decref(a);
    char out[64];
    assert_int_equal(ps_port_lookup(&st, IPPROTO_TCP, 80, out, sizeof out), 0);
    assert_string_equal(out, "0.0.0.0:8080");
}

static void test_publishers(void **state)
{
    (void)state;
    struct run_state st;
    two_ports(&st);
    char *expose[] = {"81", NULL};
    json_t *a = ps_ports_publishers(&st, expose);
    char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(
        s, "[{\"URL\":\"0.0.0.0\",\"TargetPort\":80,\"PublishedPort\":8080,\"Protocol\":\"tcp\"},"
           "{\"URL\":\"127.0.0.1\",\"TargetPort\":9000,\"PublishedPort\":9000,\"Protocol\":"
           "\"udp\"},{\"URL\":\"\",\"TargetPort\":81,\"PublishedPort\":0,\"Protocol\":\"tcp\"}]");
    free(s);
    json_decref(a);
}

static void test_lookup(void **state)
{
    (void)state;
    struct run_state st;
    two_ports(&st);
    char out[64];
    assert_int_equal(ps_port_lookup(&st, IPPROTO_TCP, 80, out, sizeof out), 0);
    assert_string_equal(out, "0.0.0.0:8080");
    assert_int_equal(ps_port_lookup(&st, IPPROTO_UDP, 9000, out, sizeof out), 0);
    assert_string_equal(out, "127.0.0.1:9000");
    assert_int_equal(ps_port_lookup(&st, IPPROTO_UDP, 80, out, sizeof out), -1);
    assert_int_equal(ps_port_lookup(&st, IPPROTO_TCP, 9000, out, sizeof out), -1);
    char *expose[] = {"81", NULL};
    char *s = ps_ports_public_list(&st, expose);
    assert_string_equal(s, "8080/tcp, 9000/udp, 0/tcp");
    free(s);
}

static void test_run_state_json(void **state)
{
    (void)state;
    struct run_state st, back;
    two_ports(&st);
    json_t *j = run_state_to_json(&st);
    run_state_from_json(j, &back);
    json_decref(j);
    assert_int_equal(back.n_ports, 2);
    assert_string_equal(back.ports[0].host_ip, "");
    assert_int_equal(back.ports[0].host_port, 8080);
    assert_int_equal(back.ports[1].proto, IPPROTO_UDP);
    assert_string_equal(back.ports[1].host_ip, "127.0.0.1");
    /* a bad entry is dropped; more than the bound are cut */
    j = json_pack("{s:[{s:i, s:i, s:s}, {s:i, s:i, s:s}]}", "ports", "host_port", 1,
                  "container_port", 0, "protocol", "tcp", "host_port", 1, "container_port", 2,
                  "protocol", "icmp");
    run_state_from_json(j, &back);
    json_decref(j);
    assert_int_equal(back.n_ports, 0);
    json_t *many = json_array();
    for (int i = 0; i < RUN_STATE_MAX_PORTS + 5; i++)
        json_array_append_new(many, json_pack("{s:i, s:i, s:s}", "host_port", 1000 + i,
                                              "container_port", 1 + i, "protocol", "udp"));
    j = json_pack("{s:o}", "ports", many);
    run_state_from_json(j, &back);
    json_decref(j);
    assert_int_equal(back.n_ports, RUN_STATE_MAX_PORTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_publishers),
        cmocka_unit_test(test_v6),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_run_state_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
