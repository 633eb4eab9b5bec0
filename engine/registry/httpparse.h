/* SPDX-License-Identifier: Apache-2.0 */
/* Pure pieces of the blob transport, kept apart to be tested alone: HTTP
 * header values a resumed download reads (Content-Range, Retry-After),
 * which failures are worth another try, and the back-off between tries.
 * No network, no state. */
#ifndef BERTH_ENGINE_REGISTRY_HTTPPARSE_H
#define BERTH_ENGINE_REGISTRY_HTTPPARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Tries after the first one for a transient failure. */
#define REGISTRY_RETRIES 3
/* The longest wait a registry's Retry-After is granted. */
#define REGISTRY_RETRY_AFTER_MAX_MS 30000u

/* "bytes START-END/TOTAL" (TOTAL may be "*": *total -1): 0 with *start and
 * *total set, -1 for anything else (an unsatisfied range "bytes * /N"
 * included). */
int http_content_range(const char *v, uint64_t *start, int64_t *total);

/* Retry-After: delta-seconds or an HTTP date (relative to now), as
 * milliseconds capped at cap_ms; a date in the past is 0. -1 when v is
 * neither. */
int http_retry_after_ms(const char *v, time_t now, unsigned cap_ms, unsigned *ms);

/* The wait before try attempt+1 (attempt counts from 1): 1 s, 2 s, 4 s. */
unsigned registry_backoff_ms(unsigned attempt);

/* HTTP statuses worth another try: 408, 429 and 5xx but 501 and 505. */
bool http_status_transient(long code);

/* libcurl outcomes worth another try (an int: a CURLcode): a refused,
 * reset or dropped connection, a timeout or stall, an empty answer. */
bool registry_curl_transient(int cc);

#endif
