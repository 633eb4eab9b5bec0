/* SPDX-License-Identifier: Apache-2.0 */
/* Output the way docker prints it: human durations and sizes, tables laid
 * out like Go's tabwriter, JSON escaped like Go's encoding/json. */
#ifndef BERTH_CMD_UI_FORMAT_H
#define BERTH_CMD_UI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* docker/go-units HumanDuration: "Less than a second", "3 seconds", "About
 * a minute", ... */
void ui_human_duration(long long secs, char *buf, size_t n);
/* docker/go-units HumanSizeWithPrecision(size, 3): "2.15MB". */
void ui_human_size(int64_t size, char *buf, size_t n);

/* A table as docker's tabwriter (minwidth 10, padding 3) lays it out: every
 * column but the last padded to its widest cell. cells is rows × ncols,
 * row 0 the header. */
void ui_table(const char *const *cells, size_t nrows, size_t ncols);

/* Prints a JSON value on one line with Go's escaping of <, > and &. */
void ui_print_json_line(json_t *v);

#endif
