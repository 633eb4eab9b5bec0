/* SPDX-License-Identifier: Apache-2.0 */
/* docker-shaped output primitives: "2 minutes", "1.5MB", tables laid out as
 * Go's tabwriter does, one JSON object per line. Not here: what goes in the
 * tables (each cmd/cmd_*.c), Go-style durations (util/duration.c). */
#include "cmd/ui/format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

void ui_human_duration(long long secs, char *buf, size_t n)
{
    long long minutes = secs / 60;
    long long hours = (secs + 1800) / 3600; /* math.Round(d.Hours()) */
    if (secs < 1)
        snprintf(buf, n, "Less than a second");
    else if (secs == 1)
        snprintf(buf, n, "1 second");
    else if (secs < 60)
        snprintf(buf, n, "%lld seconds", secs);
    else if (minutes == 1)
        snprintf(buf, n, "About a minute");
    else if (minutes < 60)
        snprintf(buf, n, "%lld minutes", minutes);
    else if (hours == 1)
        snprintf(buf, n, "About an hour");
    else if (hours < 48)
        snprintf(buf, n, "%lld hours", hours);
    else if (hours < 24 * 7 * 2)
        snprintf(buf, n, "%lld days", hours / 24);
    else if (hours < 24 * 30 * 2)
        snprintf(buf, n, "%lld weeks", hours / 24 / 7);
    else if (hours < 24 * 365 * 2)
        snprintf(buf, n, "%lld months", hours / 24 / 30);
    else
        snprintf(buf, n, "%lld years", secs / 3600 / 24 / 365);
}

void ui_human_size(int64_t size, char *buf, size_t n)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    double v = (double)size;
    size_t i = 0;
    while (v >= 1000.0 && i < ARRAY_SIZE(units) - 1) {
        v /= 1000.0;
        i++;
    }
    snprintf(buf, n, "%.3g%s", v, units[i]);
}

/* Display width of UTF-8 text: one column per code point (what tabwriter
 * counts for the text docker prints here). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void ui_table(const char *const *cells, size_t nrows, size_t ncols)
{
    _cleanup_free_ size_t *w = xcalloc(ncols, sizeof *w);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            size_t l = width(cells[r * ncols + c]);
            if (l > w[c])
                w[c] = l;
        }
    for (size_t c = 0; c + 1 < ncols; c++)
        w[c] = w[c] + 3 < 10 ? 10 : w[c] + 3;
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = cells[r * ncols + c];
            fputs(cell, stdout);
            if (c + 1 < ncols)
                for (size_t k = width(cell); k < w[c]; k++)
                    putchar(' ');
        }
        putchar('\n');
    }
}

void ui_print_json_line(json_t *v)
{
    _cleanup_free_ char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!txt)
        return;
    for (const char *s = txt; *s; s++) {
        if (*s == '<')
            fputs("\\u003c", stdout);
        else if (*s == '>')
            fputs("\\u003e", stdout);
        else if (*s == '&')
            fputs("\\u0026", stdout);
        else
            putchar(*s);
    }
    putchar('\n');
}
