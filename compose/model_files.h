/* SPDX-License-Identifier: Apache-2.0 */
/* The typed model's files and metadata keys (compose/model_files.c):
 * top-level configs and secrets, a service's configs:, secrets:,
 * volumes_from, annotations, label_file, runtime and use_api_socket. Each
 * reports a wrong value as "file:line:col: service "web": key: message".
 * Internal to compose/. */
#ifndef BERTH_COMPOSE_MODEL_FILES_H
#define BERTH_COMPOSE_MODEL_FILES_H

#include "compose/model_internal.h"

/* The canonical root's configs: and secrets: into the project. */
void build_file_object_defs(struct model *m, const struct ynode *root);
void file_object_defs_clear(struct project *p);

void key_configs(struct model *m, struct service *s, const struct ypair *kv);
void key_secrets(struct model *m, struct service *s, const struct ypair *kv);
void key_volumes_from(struct model *m, struct service *s, const struct ypair *kv);
void key_annotations(struct model *m, struct service *s, const struct ypair *kv);
void key_label_file(struct model *m, struct service *s, const struct ypair *kv);
void key_runtime(struct model *m, struct service *s, const struct ypair *kv);
void key_use_api_socket(struct model *m, struct service *s, const struct ypair *kv);
/* After every key of the service (label_file's labels under labels:). */
void finish_files(struct model *m, struct service *s);
void service_files_clear(struct service *s);

#endif
