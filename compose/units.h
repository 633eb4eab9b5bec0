/* SPDX-License-Identifier: Apache-2.0 */
/* Value syntaxes of compose keys: sizes ("512m") and durations ("1m30s"),
 * read the way docker and compose read them. */
#ifndef BERTH_COMPOSE_UNITS_H
#define BERTH_COMPOSE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Docker's RAMInBytes (go-units): a decimal number, an optional space, an
 * optional unit k, m, g, t or p (any case, binary multiples) optionally
 * followed by "i" and/or "b"; "b" alone means bytes. "1.5g" is 1.5 GiB,
 * truncated to whole bytes. Returns 0, -EINVAL or -ERANGE. */
int parse_size(const char *s, int64_t *out);

/* Go durations as compose reads them (time.ParseDuration plus "d" and "w"):
 * a sequence of decimal numbers with units ns, us (µs), ms, s, m, h, d, w:
 * "10s", "1m30s", "1.5s", "100ms", "2h". "0" alone is allowed. A leading
 * "-" is a negative duration (the caller decides whether it may be).
 * Returns 0, -EINVAL or -ERANGE; *ns in nanoseconds. */
int parse_duration(const char *s, int64_t *ns);

/* v in decimal as printf's "%lld" writes it, NUL-terminated, into buf
 * (room for FORMAT_INT_MAX bytes); returns its length. */
#define FORMAT_INT_MAX 21
size_t format_int(char *buf, int64_t v);

#endif
