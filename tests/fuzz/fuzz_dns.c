/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the embedded DNS server's wire format (net/dns.h):
 * bytes taken as a query go through dns_parse_query and, when they parse,
 * dns_build_answer with A, AAAA and no records into buffers of several
 * sizes (the TC cut), and dns_build_error when they do not. Built with
 * clang (tests/fuzz/CMakeLists.txt, BERTH_FUZZ=ON); the normal test suite
 * replays the committed corpus (replay.c). Not here: the server's sockets. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: a read past the end is a sanitizer report. */
    uint8_t *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    static const uint8_t addrs[16 * 40] = {10, 0, 0, 1};
    static const size_t caps[] = {0, 12, 17, 100, DNS_UDP_MAX, 2048};
    uint8_t out[2048];
    struct dns_question q;
    int r = dns_parse_query(msg, size, &q);
    if (r == 0) {
        if (q.end > size || strlen(q.name) > DNS_NAME_MAX)
            abort();
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
            int n = dns_build_answer(msg, &q, 0, AF_INET, addrs, 40, 600, out, caps[i]);
            if (n > (int)caps[i])
                abort();
            n = dns_build_answer(msg, &q, 0, AF_INET6, addrs, 40, 600, out, caps[i]);
            if (n > (int)caps[i])
                abort();
            n = dns_build_answer(msg, &q, DNS_RCODE_SERVFAIL, 0, NULL, 0, 0, out, caps[i]);
            if (n > (int)caps[i])
                abort();
        }
    } else {
        (void)dns_build_error(msg, size, r == -ENOTSUP ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR, out,
                              sizeof out);
    }
    if (size >= 2) {
        uint16_t id = (uint16_t)(dns_msg_id(msg) ^ 0xffff);
        dns_msg_set_id(msg, id);
        if (dns_msg_id(msg) != id)
            abort();
    }
    (void)dns_msg_is_response(msg, size);
    free(msg);
    return 0;
}
