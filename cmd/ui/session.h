/* SPDX-License-Identifier: Apache-2.0 */
/* Attaching this process's terminal to a process berth started (a one-off
 * `run` container, an `exec`'d command): waits for it to exit, forwarding
 * signals; with a pseudo-terminal, copies the terminal both ways in raw
 * mode (reading stdin only while the container keeps up) and passes
 * window-size changes on; without one, relays this process's terminal
 * streams through pipes. */
#ifndef BERTH_CMD_UI_SESSION_H
#define BERTH_CMD_UI_SESSION_H

#include <stdbool.h>

#include "engine/runtime/runtime.h"
#include "util/err.h"

struct cli_session;

/* Takes SIGINT, SIGTERM, SIGHUP and SIGQUIT (and SIGWINCH with a terminal)
 * at once, before the process exists, so none is lost: they are forwarded
 * once it runs. */
struct cli_session *cli_session_new(bool tty);

/* Without a terminal for the process (tty false): what it gets as stdin,
 * stdout and stderr. host[i] is this process's stream (-1: none, the
 * process gets /dev/null). A stream that is a terminal is never handed
 * over: a pipe stands for it and cli_session_wait relays it (as Docker
 * does), so nothing the process leaves behind keeps the terminal or reads
 * what is typed after berth returns; EOF on stdin closes the pipe.
 * Others are passed as they are. child[i] gets the fd to hand over. Call
 * before the process starts; the session closes its copies once it waits
 * (or when freed). */
int cli_session_stdio(struct cli_session *s, const int host[3], int child[3], struct berr *e);

/* This process's stream fd, or -1 when it was started without it (checked
 * before anything is opened, which could reuse the number) or when it is a
 * directory or an O_PATH fd, which must never reach a container. */
int cli_stdio_fd(int fd);

/* Runs until proc exits; with a terminal, proc->console_fd is the master
 * side (left open). Returns the exit status (128 + signal when killed, 1
 * when it cannot be reaped); *x, when given, gets the details. */
int cli_session_wait(struct cli_session *s, struct container_proc *proc, struct container_exit *x);

/* Gives the signals back; NULL is a no-op. */
void cli_session_free(struct cli_session *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cli_session *, cli_session_free)
#define _cleanup_cli_session_ _cleanup_(cli_session_freep)

#endif
