/* SPDX-License-Identifier: Apache-2.0 */
/* OCI image manifests and indexes (also docker's v2 schema 2 manifest and
 * manifest list): descriptors with validated digests, type-confusion checks
 * (a document is either a manifest or an index, never both). */
#ifndef BERTH_ENGINE_IMAGE_MANIFEST_H
#define BERTH_ENGINE_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/platform.h"

#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

struct descriptor {
    char *media_type; /* NULL when absent */
    char *digest;     /* validated */
    int64_t size;
    char *platform_os, *platform_arch, *platform_variant;
    char *image_name; /* annotation io.containerd.image.name */
    char *ref_name;   /* annotation org.opencontainers.image.ref.name */
    bool attestation; /* vnd.docker.reference.type: attestation-manifest */
};

struct oci_manifest {
    struct descriptor config;
    struct descriptor *layers;
    size_t n_layers;
};

struct oci_index {
    struct descriptor *manifests;
    size_t n;
};

bool descriptor_is_index(const struct descriptor *d);
void descriptor_free(struct descriptor *d);

int manifest_parse(const char *buf, size_t len, const char *what, struct oci_manifest *out,
                   struct berr *e);
void manifest_free(struct oci_manifest *m);

int index_parse(const char *buf, size_t len, const char *what, struct oci_index *out,
                struct berr *e);
void index_free(struct oci_index *ix);

/* The OCI architecture name of this host ("amd64", "arm64", ...). */
const char *platform_host_arch(void);

/* Picks the manifest for linux and this host's architecture from an index
 * (attestations skipped). Returns its position or -ENOENT. */
int index_pick_platform(const struct oci_index *ix);

/* Picks the manifest for want (NULL: this host's platform): an entry of
 * that variant first, then, when want names none, one of any variant.
 * Returns its position or -ENOENT. */
int index_pick(const struct oci_index *ix, const struct platform *want);

/* The platforms an index offers, "linux/amd64, linux/arm64/v8" (or
 * "none"), for errors. Heap string. */
char *index_platforms(const struct oci_index *ix);

/* An OCI manifest document for a config and layers (used for docker-archive
 * loads, which carry none). Heap string. */
char *manifest_synthesize(const char *config_digest, int64_t config_size,
                          const char *const *layer_digests, const int64_t *layer_sizes,
                          const char *const *layer_media_types, size_t n_layers);

#endif
