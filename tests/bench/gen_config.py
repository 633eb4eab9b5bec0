#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a large compose project for bench_config.sh: N services built
from x- anchors with << merge keys (three tiers), each with ports, volumes,
environment, healthchecks and depends_on, plus an override file that
changes every tenth service.  Usage: gen_config.py DIR [N]"""
import os
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
os.makedirs(out, exist_ok=True)
lines = [
    "name: bench",
    "x-logging: &logging",
    "  driver: json-file",
    "  options: {max-size: 10m, max-file: \"3\"}",
    "x-base: &base",
    "  restart: unless-stopped",
    "  logging: *logging",
    "  environment: &env",
    "    TZ: UTC",
    "    LOG_LEVEL: info",
    "    REGION: ${REGION:-eu-west-1}",
    "  healthcheck: &hc",
    "    test: [\"CMD-SHELL\", \"wget -qO- http://localhost/health || exit 1\"]",
    "    interval: 30s",
    "    timeout: 5s",
    "    retries: 3",
    "  deploy:",
    "    resources:",
    "      limits: {cpus: \"0.5\", memory: 256M}",
    "services:",
]
for i in range(n):
    tier = ("web", "api", "worker")[i % 3]
    lines += [
        f"  {tier}-{i}:",
        "    <<: *base",
        f"    image: registry.example.com/{tier}:${{TAG:-1.{i % 7}}}",
        f"    command: [\"{tier}\", \"--id\", \"{i}\", \"--threads\", \"4\"]",
        "    environment:",
        "      <<: *env",
        f"      SERVICE_INDEX: \"{i}\"",
        f"      PEER: {tier}-{(i + 1) % n}",
        "    ports:",
        f"      - \"{10000 + i}:80\"",
        f"      - target: 9100",
        f"        published: \"{20000 + i}\"",
        "    volumes:",
        f"      - ./data/{i}:/data",
        f"      - cache-{i % 10}:/cache",
        "      - type: tmpfs",
        "        target: /tmp",
        "        tmpfs: {size: 64m}",
        "    labels:",
        f"      com.example.tier: {tier}",
        f"      com.example.index: \"{i}\"",
    ]
    if i >= 3:
        lines += ["    depends_on:", f"      {('web', 'api', 'worker')[(i - 3) % 3]}-{i - 3}:",
                  "        condition: service_started"]
lines.append("volumes:")
for k in range(10):
    lines.append(f"  cache-{k}:")
with open(os.path.join(out, "compose.yaml"), "w") as f:
    f.write("\n".join(lines) + "\n")

over = ["services:"]
for i in range(0, n, 10):
    tier = ("web", "api", "worker")[i % 3]
    over += [
        f"  {tier}-{i}:",
        "    environment: {LOG_LEVEL: debug}",
        f"    ports: [\"{30000 + i}:8080\"]",
        "    mem_limit: 512m",
    ]
with open(os.path.join(out, "compose.override.yaml"), "w") as f:
    f.write("\n".join(over) + "\n")
