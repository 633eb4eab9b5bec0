/* SPDX-License-Identifier: Apache-2.0 */
/* `pull`: the manifest by reference, then the image module's import with
 * this client as its fetcher. Not here: the HTTP side (client.c). */
#include <stdlib.h>

#include "engine/registry/registry.h"
#include "util/cleanup.h"

int registry_pull(struct store *s, const char *ref, struct image_pull_stats *stats, char ***pulled,
                  struct berr *e)
{
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(ref, &ir, e);
    if (r < 0)
        return r;
    _cleanup_registry_client_ struct registry_client *c = NULL;
    if ((r = registry_client_new(&ir, &c, e)) < 0)
        return r;
    _cleanup_free_ char *doc = NULL;
    _cleanup_free_ char *media_type = NULL;
    size_t len = 0;
    if ((r = registry_get_manifest(c, ir.digest ? ir.digest : ir.tag, &doc, &len, &media_type, e)) <
        0)
        return r;
    struct image_fetcher f = registry_fetcher(c);
    return image_pull_import(s, ref, media_type, doc, len, &f, stats, pulled, e);
}
