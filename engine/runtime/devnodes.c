/* SPDX-License-Identifier: Apache-2.0 */
/* Device nodes for the container's /dev (devnodes.h). */
#include "engine/runtime/devnodes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/xalloc.h"

void init_devices_free(struct init_devices *d)
{
    for (size_t i = 0; i < d->n; i++)
        free((char *)d->v[i].what);
    free(d->v);
    memset(d, 0, sizeof *d);
}

int init_devices_prepare(const struct cgroup_limits *lim, const char *who, struct init_devices *out,
                         struct berr *e)
{
    memset(out, 0, sizeof *out);
    if (lim->n_devices == 0)
        return 0;
    out->v = xcalloc(lim->n_devices, sizeof *out->v);
    for (size_t i = 0; i < lim->n_devices; i++) {
        const struct cgroup_devmap *d = &lim->devices[i];
        struct stat st;
        int r = 0;
        if (stat(d->host, &st) < 0)
            r = berr_errno(e, errno, "%s: devices: %s", who, d->host);
        else if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            r = berr_set(e, -ENODEV, "%s: devices: %s is not a device node", who, d->host);
        else if (strncmp(d->ctr, "/dev/", 5) != 0 || strlen(d->ctr) >= 200)
            r = berr_set(e, -EINVAL, "%s: devices: %s is not a path under /dev", who, d->ctr);
        if (r < 0) {
            init_devices_free(out);
            return r;
        }
        struct init_device *dv = &out->v[out->n++];
        *dv = (struct init_device){
            .what = xasprintf("making %s", d->ctr),
            .mode = st.st_mode & (S_IFMT | 07777),
            .rdev = st.st_rdev,
            .uid = st.st_uid,
            .gid = st.st_gid,
        };
        memcpy(dv->path, d->ctr + 5, strlen(d->ctr + 5) + 1);
    }
    return 0;
}
