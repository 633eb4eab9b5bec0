/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the compose loader: bytes taken as a compose file go
 * through the whole path (YAML, interpolation, canonical form, merging,
 * normalizing, validation, the typed model) and, when they load, out again
 * as `berth config` YAML and JSON and config hashes. Built with clang
 * (tests/fuzz/CMakeLists.txt, BERTH_FUZZ=ON); the same function is replayed
 * over the committed corpus by the normal test suite (replay.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "compose/compose.h"
#include "compose/internal.h"

static void quiet(void *ud, const char *msg)
{
    (void)ud;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *env[] = {"HOME=/nonexistent/home", "TAG=1.0", "EMPTY=", NULL};
    static char *files[] = {"/nonexistent/fuzz/compose.yaml", NULL};
    static char *profiles[] = {"debug", NULL};
    struct compose_opts o = {
        .files = files,
        .environ = env,
        .cwd = "/nonexistent/fuzz",
        .profiles = profiles,
        .warn = quiet,
    };
    struct project *p = NULL;
    struct berr e = BERR_INIT;
    if (compose_load_from_memory(&o, (const char *)data, size, &p, &e) == 0) {
        free(compose_config_text(p, COMPOSE_FORMAT_YAML, NULL));
        free(compose_config_text(p, COMPOSE_FORMAT_JSON, NULL));
        for (size_t i = 0; i < p->n_services; i++) {
            char h[65];
            compose_service_hash(p, p->services[i].name, h);
        }
        project_free(p);
    }
    berr_clear(&e);
    return 0;
}
