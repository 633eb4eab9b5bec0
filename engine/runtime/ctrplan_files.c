/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's files and metadata group in the container record's JSON:
 * "files" (configs and secrets), "volumes_from", "annotations", each
 * written only when set. Not here: the rest of the plan
 * (engine/runtime/ctrplan.c). */
#include "engine/runtime/ctrplan_files.h"

#include <stdlib.h>
#include <string.h>

#include "engine/runtime/ctrplan.h"
#include "util/strv.h"
#include "util/xalloc.h"

void plan_files_to_json(const struct ctr_plan *c, json_t *j)
{
    if (c->n_files > 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_files; i++) {
            const struct plan_file *f = &c->files[i];
            json_t *o =
                json_pack("{s:s, s:b, s:s, s:I, s:I, s:I}", "name", f->name ? f->name : "",
                          "secret", f->secret, "target", f->target, "uid", (json_int_t)f->uid,
                          "gid", (json_int_t)f->gid, "mode", (json_int_t)f->mode);
            if (f->source)
                json_object_set_new(o, "source", json_string(f->source));
            else
                json_object_set_new(o, "content", json_string(f->content ? f->content : ""));
            json_array_append_new(a, o);
        }
        json_object_set_new(j, "files", a);
    }
    plan_json_put_strv(j, "volumes_from", c->volumes_from);
    plan_json_put_strv(j, "annotations", c->annotations);
}

void plan_files_from_json(json_t *j, struct ctr_plan *out)
{
    json_t *a = json_object_get(j, "files"), *it;
    size_t i;
    if (json_is_array(a) && json_array_size(a) > 0) {
        out->files = xcalloc(json_array_size(a), sizeof *out->files);
        json_array_foreach(a, i, it)
        {
            const char *target = json_string_value(json_object_get(it, "target"));
            if (!target)
                continue;
            struct plan_file *f = &out->files[out->n_files++];
            f->name = plan_json_str(it, "name");
            f->secret = json_is_true(json_object_get(it, "secret"));
            f->target = xstrdup(target);
            f->source = plan_json_str(it, "source");
            f->content = plan_json_str(it, "content");
            f->uid = (uint32_t)json_integer_value(json_object_get(it, "uid"));
            f->gid = (uint32_t)json_integer_value(json_object_get(it, "gid"));
            f->mode = (uint32_t)json_integer_value(json_object_get(it, "mode"));
        }
    }
    out->volumes_from = plan_json_get_strv(j, "volumes_from");
    out->annotations = plan_json_get_strv(j, "annotations");
}

void plan_files_free(struct ctr_plan *c)
{
    for (size_t i = 0; i < c->n_files; i++) {
        struct plan_file *f = &c->files[i];
        free(f->name);
        free(f->target);
        free(f->source);
        if (f->content) /* a secret's bytes do not linger in freed memory */
            explicit_bzero(f->content, strlen(f->content));
        free(f->content);
    }
    free(c->files);
    c->files = NULL;
    c->n_files = 0;
    strv_free(c->volumes_from);
    strv_free(c->annotations);
    c->volumes_from = c->annotations = NULL;
}
