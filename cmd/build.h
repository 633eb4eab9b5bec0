/* SPDX-License-Identifier: Apache-2.0 */
/* Building service images from the commands (cmd/cmd_build.c): `berth
 * build`, `berth image build`, and `up`/`run` building what a service
 * needs before anything is made. A struct cli_builder carries what the
 * builder is handed (the store, a runtime of its own made on first use,
 * the pull callback) and which images it built already, so that services
 * that share one image name build it once. Not here: the builder itself
 * (engine/build/build.h), the compose keys (compose/model_build.c). */
#ifndef BERTH_CMD_BUILD_H
#define BERTH_CMD_BUILD_H

#include <stdbool.h>

#include "cmd/cli.h"
#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/runtime/runtime.h"
#include "util/err.h"

/* When up and run build a service that has build: (compose's --build and
 * --no-build; pull_policy: build is BUILD_ALWAYS for its service). */
enum cli_build_when {
    BUILD_MISSING, /* the default: when its image is not in the store */
    BUILD_ALWAYS,  /* --build */
    BUILD_NEVER,   /* --no-build: a missing image is an error */
};

struct cli_builder {
    struct cli *c;
    struct store *st; /* borrowed */
    struct runtime rt;
    bool rt_ready;
    bool no_cache, pull, quiet;
    char **build_args; /* --build-arg values (override build.args), borrowed */
    char **built;      /* image names built by this builder (owned) */
};
void cli_builder_init(struct cli_builder *b, struct cli *c, struct store *st);
void cli_builder_fini(struct cli_builder *b);

/* Builds the service's image (tagged with its image name and build.tags)
 * unless this builder built that name already; the last line says
 * " Service NAME  Built". The error names the compose file's place for
 * what berth will not build (a URL context, a refused key, a platform
 * this host does not run) and the service otherwise. */
int cli_build_service(struct cli_builder *b, const struct service *s, struct berr *e);

/* The pure decisions, for unit tests too. */
enum cli_build_decision {
    BUILD_SKIP,            /* nothing to build (no build:, or the image will do) */
    BUILD_RUN,             /* build it */
    BUILD_MISSING_REFUSED, /* --no-build and its image is missing: an error */
};
/* Whether to build service s whose image is (present) in the store. */
enum cli_build_decision cli_build_decide(const struct service *s, bool present,
                                         enum cli_build_when when);
/* The build args handed to the builder: the file's ("K=V"), then the
 * --build-arg values overriding them; a flag's bare "K" takes env's
 * value, or is left out when env has none. A heap vector. */
char **cli_build_args(char *const *file, char *const *flags, char *const *env);

/* What up and run do before planning a service's containers: builds it
 * when `when` (and its pull_policy) say so; with BUILD_NEVER, an image
 * missing for a service with build: is an error. Services without build:
 * are left to the pull rules (cli_service_image). */
int cli_service_build_if(struct cli_builder *b, const struct service *s, enum cli_build_when when,
                         struct berr *e);

#endif
