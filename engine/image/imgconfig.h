/* SPDX-License-Identifier: Apache-2.0 */
/* The image config blob (OCI image config / docker container image JSON):
 * what the runtime needs from it and the layer DiffIDs. */
#ifndef BERTH_ENGINE_IMAGE_IMGCONFIG_H
#define BERTH_ENGINE_IMAGE_IMGCONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "util/err.h"

/* manifest.json, index.json, manifests and configs are refused above this. */
#define IMAGE_JSON_MAX (4u << 20)
/* An image config declaring more VOLUMEs than this is refused. */
#define IMAGE_VOLUMES_MAX 256

struct imgconfig {
    char *created; /* RFC 3339 or NULL */
    char *architecture;
    char *os;
    char *variant;
    char **entrypoint; /* NULL-terminated, NULL when absent */
    char **cmd;
    char **env;
    char *working_dir;
    char *user;
    char *stop_signal;
    char **health_test; /* config.Healthcheck.Test, NULL when absent */
    int64_t health_interval_ns, health_timeout_ns, health_start_period_ns,
        health_start_interval_ns; /* 0 = not set */
    int health_retries;
    char **volumes;  /* config.Volumes keys, sorted; NULL when none */
    char **diff_ids; /* validated "sha256:..." strings, bottom first */
    size_t n_diff_ids;
};

/* Parses a JSON document of at most IMAGE_JSON_MAX bytes; what names it in
 * errors. */
int image_json_load(const char *buf, size_t len, const char *what, json_t **out, struct berr *e);

int imgconfig_parse(const char *buf, size_t len, const char *what, struct imgconfig *out,
                    struct berr *e);
void imgconfig_free(struct imgconfig *c);

/* Parses an RFC 3339 time ("2024-01-01T00:00:00.123Z", "...+02:00") into
 * seconds since the epoch. -EINVAL when it does not parse. */
int rfc3339_parse(const char *s, long long *out);

#endif
