/* Attaching this process's terminal to a process berth started (a one-off
 * `run` container, an `exec`'d command): waits for it to exit, forwarding
 * signals; with a pseudo-terminal, copies the terminal both ways in raw
 * mode (reading stdin only while the container keeps up) and passes
 * window-size changes on. */
#ifndef BERTH_CMD_UI_SESSION_H
#define BERTH_CMD_UI_SESSION_H

#include <stdbool.h>

#include "engine/runtime/runtime.h"

struct cli_session;

/* Takes SIGINT, SIGTERM, SIGHUP and SIGQUIT (and SIGWINCH with a terminal)
 * at once, before the process exists, so none is lost: they are forwarded
 * once it runs. */
struct cli_session *cli_session_new(bool tty);

/* Runs until proc exits; with a terminal, proc->console_fd is the master
 * side (left open). Returns the exit status (128 + signal when killed, 1
 * when it cannot be reaped); *x, when given, gets the details. */
int cli_session_wait(struct cli_session *s, struct container_proc *proc, struct container_exit *x);

/* Gives the signals back; NULL is a no-op. */
void cli_session_free(struct cli_session *s);

#endif
