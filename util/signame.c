/* SPDX-License-Identifier: Apache-2.0 */
/* Signal names and numbers both ways, as docker and compose spell them
 * (SIGTERM, TERM, 15, SIGRTMIN+3). Not here: sending signals
 * (engine/runtime/container.c) or stop-signal policy (engine/supervise/). */
#include "util/signame.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

static int parse_num(const char *s, int *out)
{
    if (!*s)
        return -EINVAL;
    int v = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        v = v * 10 + (*s - '0');
        if (v > 1000)
            return -EINVAL;
    }
    *out = v;
    return 0;
}

int signal_parse(const char *s)
{
    int n;
    if (!s)
        return -EINVAL;
    if (parse_num(s, &n) == 0)
        return (n >= 1 && n <= SIGRTMAX) ? n : -EINVAL;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcasecmp(s, signals[i].name) == 0)
            return signals[i].sig;
    if (strncasecmp(s, "RTMIN", 5) == 0) {
        const char *rest = s + 5;
        if (!*rest)
            return SIGRTMIN;
        if (*rest == '+' && parse_num(rest + 1, &n) == 0 && SIGRTMIN + n <= SIGRTMAX)
            return SIGRTMIN + n;
        return -EINVAL;
    }
    if (strncasecmp(s, "RTMAX", 5) == 0) {
        const char *rest = s + 5;
        if (!*rest)
            return SIGRTMAX;
        if (*rest == '-' && parse_num(rest + 1, &n) == 0 && SIGRTMAX - n >= SIGRTMIN)
            return SIGRTMAX - n;
        return -EINVAL;
    }
    return -EINVAL;
}

const char *signal_name(int sig, char buf[16])
{
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i].sig == sig && strcmp(signals[i].name, "IOT") != 0 &&
            strcmp(signals[i].name, "POLL") != 0) {
            snprintf(buf, 16, "SIG%s", signals[i].name);
            return buf;
        }
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        snprintf(buf, 16, "SIGRTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    return NULL;
}
