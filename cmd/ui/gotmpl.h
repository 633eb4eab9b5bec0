/* SPDX-License-Identifier: Apache-2.0 */
/* The small part of Go's text/template that `--format` users write for
 * inspect output: text with {{.Field.Sub}} (a value as Go's fmt prints it:
 * strings bare, lists "[a b]", maps "map[k:v]", null "<nil>", a missing
 * key "<no value>"), {{json .Field}} (compact JSON), {{.}} and {{json .}}.
 * Anything else (pipelines, range, if, functions but json) is refused with
 * an error saying what is supported. */
#ifndef BERTH_CMD_UI_GOTMPL_H
#define BERTH_CMD_UI_GOTMPL_H

#include <jansson.h>

#include "util/err.h"

/* Checks tmpl before anything is printed. */
int gotmpl_check(const char *tmpl, struct berr *e);

/* The text tmpl makes of v (heap), or NULL with e filled. */
char *gotmpl_render(const char *tmpl, json_t *v, struct berr *e);

#endif
