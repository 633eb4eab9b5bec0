/* SPDX-License-Identifier: Apache-2.0 */
/* `pull`: the manifest by reference from the first endpoint that serves
 * it (docker.io's mirrors in order, then docker.io), then the image
 * module's import with this client as its fetcher. Not here: the HTTP
 * side (client.c). */
#include <stdlib.h>

#include "engine/events/event.h"
#include "engine/image/store.h"
#include "engine/registry/client_int.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* The manifest from c's endpoint, else from the next one: a mirror that
 * fails is warned about and the next tried, as docker does. */
static int get_manifest(struct store *s, const char *ref, struct registry_client *c,
                        const char *tag_or_digest, char **doc, size_t *len, char **media_type,
                        struct berr *e)
{
    for (;;) {
        int r = registry_get_manifest(c, tag_or_digest, doc, len, media_type, e);
        if (r == 0 || !c->eps[c->cur].mirror)
            return r;
        _cleanup_free_ char *mirror = xstrdup(c->base);
        int n = registry_client_next_endpoint(c, NULL);
        if (n <= 0)
            return r;
        ev_warn(&s->sink, EV_IMAGE, ref, "mirror %s: %s; trying %s", mirror, e->msg, c->base);
        berr_clear(e);
    }
}

int registry_pull(struct store *s, const char *ref, struct image_pull_stats *stats, char ***pulled,
                  struct berr *e)
{
    return registry_pull_for(s, ref, NULL, stats, pulled, e);
}

int registry_pull_for(struct store *s, const char *ref, const struct platform *platform,
                      struct image_pull_stats *stats, char ***pulled, struct berr *e)
{
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(ref, &ir, e);
    if (r < 0)
        return r;
    _cleanup_registry_client_ struct registry_client *c = NULL;
    if ((r = registry_client_new(&ir, &c, e)) < 0)
        return r;
    c->sink = &s->sink;
    _cleanup_free_ char *doc = NULL;
    _cleanup_free_ char *media_type = NULL;
    size_t len = 0;
    if ((r = get_manifest(s, ref, c, ir.digest ? ir.digest : ir.tag, &doc, &len, &media_type, e)) <
        0)
        return r;
    if (c->n_eps > 1) { /* mirrors are configured: say which one serves */
        _cleanup_free_ char *detail =
            xasprintf("%s%s", c->eps[c->cur].mirror ? "mirror " : "", c->base);
        struct ev ev = {.type = EV_IMAGE,
                        .action = "pull",
                        .name = ref,
                        .status = "Served by",
                        .detail = detail};
        ev_emit(&s->sink, &ev);
    }
    struct image_fetcher f = registry_fetcher(c);
    return image_pull_import_for(s, ref, platform, media_type, doc, len, &f, stats, pulled, e);
}
