/* SPDX-License-Identifier: Apache-2.0 */
/* A container's ports as docker compose shows them: the PORTS column of
 * `ps` ("0.0.0.0:8080->80/tcp, 443/tcp"), the "Publishers" array of
 * `ps --format json`, and the answer of `port` ("0.0.0.0:8080").
 * Pure formatting of a run state's bound ports and the plan's `expose`:
 * no I/O here; the bindings come from the supervisor
 * (engine/supervise/supervisor.c: sv_run_state). */
#ifndef BERTH_CMD_PS_PORTS_H
#define BERTH_CMD_PS_PORTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/supervise/records.h"

/* The PORTS text (heap; "" for none): each bound port
 * "HOST_IP:HOST_PORT->CTR_PORT/PROTO" (HOST_IP 0.0.0.0 when the file gave
 * none), then each exposed port that is not published, "PORT/PROTO".
 * expose: the plan's (NULL-terminated or NULL). */
char *ps_ports_text(const struct run_state *rs, char *const *expose);
/* The same as docker compose's "Publishers": [{"URL", "TargetPort",
 * "PublishedPort", "Protocol"}], exposed-only ports with PublishedPort 0. */
json_t *ps_ports_publishers(const struct run_state *rs, char *const *expose);
/* `port`: the binding of ctr_port/proto as "HOST_IP:PORT" in out; -1 when
 * that port is not published. */
int ps_port_lookup(const struct run_state *rs, int proto, uint16_t ctr_port, char *out,
                   size_t outsz);
/* The text after docker compose's "no port P/PROTO for container NAME: "
 * (heap): every port of the container as "PUBLISHED/PROTO", comma
 * separated (0 for an exposed-only one, as docker's). */
char *ps_ports_public_list(const struct run_state *rs, char *const *expose);

#endif
