/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's internals, shared by its files: supervisor.c (the
 * container state machine: starts, exits, restarts, stops, dependencies,
 * output), sv_control.c (the control socket) and sv_health.c
 * (healthchecks). Not a door for other modules: they use supervisor.h. */
#ifndef BERTH_SUPERVISE_SV_INTERNAL_H
#define BERTH_SUPERVISE_SV_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "engine/events/event.h"
#include "engine/events/ring.h"
#include "engine/supervise/logfile.h"
#include "engine/supervise/supervisor.h"

#define KILL_WAIT_MS    3000 /* a stop waits this long for SIGKILL to work */
#define CLIENT_LINE_MAX (1 << 20)
/* An event subscriber with more unsent bytes than this is dropped. */
#define SV_EVENTS_QUEUE_MAX (256 * 1024)

enum cstate {
    C_IDLE,    /* known, not asked to run */
    C_WAITING, /* asked to run, waiting for its dependencies */
    C_RUNNING, /* its process is up */
    C_BACKOFF, /* exited; a restart is scheduled */
    C_EXITED,  /* exited for good (or stopped) */
    C_FAILED,  /* could not start */
};

enum health {
    H_NONE,
    H_STARTING,
    H_HEALTHY,
    H_UNHEALTHY,
};

static const char *const health_names[] = {"", "starting", "healthy", "unhealthy"};

struct linebuf {
    char *data;
    size_t len;
};

struct sv_ctr;

/* One execution of a container: its process, output pipes and their
 * handles. Freed once every handle has closed. */
struct sv_run {
    struct supervisor *sv;
    struct sv_ctr *c; /* NULL once the container moved on */
    struct container_proc proc;
    uv_poll_t poll;
    uv_pipe_t out[2];
    struct linebuf buf[2];
    int stdin_w; /* stdin_open without a tty: the pipe's write end, kept open, or -1 */
    int open_handles;
    int open_streams;
    bool reaped;
    struct container_exit exit;
    uint64_t started_ms;
};

struct sv_ctr {
    struct supervisor *sv;
    struct ctr_record rec;
    int color;
    enum cstate state;
    enum health health;
    bool stop_requested; /* by a user: no restart */
    bool ever_started;
    bool paused;
    bool killed;     /* this run got SIGKILL at the end of its grace period */
    bool unkillable; /* ... and outlived it by KILL_WAIT_MS */
    int restarts;
    int backoff_step;
    int64_t started_at_ns, finished_at_ns;
    int exit_code;
    bool oom_killed;
    char *error; /* why it could not start */
    struct sv_run *run;
    uv_timer_t timer; /* grace period, then restart back-off */
    int failures;     /* consecutive failed probes */
    char health_output[256];
    struct log_writer log;
    uv_timer_t health_timer;
    struct sv_exec *probe;    /* the healthcheck running now, or NULL */
    uint64_t health_since_ms; /* when the current run started (start period) */
    /* Networking (sv_net.c): the namespace with its links, held by this fd
     * (-1: none yet), made at the first start in this supervisor and kept
     * across restarts; the DNS server's sockets in it; the published
     * ports' sockets, one per plan port (NULL where not bound). */
    int netns_fd;
    bool dns_listening;
    struct sv_proxy **proxies;
    size_t n_proxies;
    /* Lifecycle hooks (sv_hooks.c): the one running now, or NULL; a
     * post_start list not done yet (the start is not reported); pre_stop
     * begun for this run; a post_start failed (the start fails). */
    struct sv_exec *hook;
    struct hook_run *hook_run; /* which hook it is (sv_hooks.c) */
    bool hooks_pending, pre_stop_started, hook_failed;
};

/* A process exec'd into a running container on the loop (sv_exec.c): a
 * healthcheck probe or a lifecycle hook, its output (combined, the first
 * out_cap bytes kept) and its timeout. It owns its four handles and is
 * freed when the last has closed (open_handles); it is done once reaped
 * and its two streams (the output pipe and the start status) have ended
 * (open_streams): then done(x, owner) is called, unless the owner let it
 * go (sv_exec_abandon). Its process is started without waiting
 * (container_exec_start): until it reaches execve it runs berth's code
 * inside the container, where the container can stop it, so the loop
 * watches its status fd instead of blocking on it, and the timeout covers
 * the start too. */
struct sv_exec;
typedef void (*sv_exec_done_fn)(struct sv_exec *x, void *owner);
struct sv_exec {
    struct supervisor *sv;
    void *owner; /* NULL once the owner moved on */
    sv_exec_done_fn done;
    char *name; /* the container's, for messages */
    struct container_proc proc;
    uv_poll_t poll;  /* the process's pidfd: its exit */
    uv_pipe_t out;   /* its stdout and stderr */
    uv_poll_t start; /* status_fd: EOF at execve, or why it could not start */
    int status_fd;   /* owned here; closed when `start` has closed */
    uv_timer_t timeout;
    char *output;
    size_t out_cap, out_len;
    int open_handles;
    int open_streams;
    bool reaped;
    bool timed_out;
    bool start_failed; /* its report is in output */
    struct container_exit exit;
};

/* Starts spec (its stdio is set here) with a timeout; NULL with e when it
 * cannot even be cloned. */
struct exec_spec;
struct sv_exec *sv_exec_start(struct supervisor *sv, struct exec_spec *spec, size_t out_cap,
                              uint64_t timeout_ms, sv_exec_done_fn done, void *owner,
                              struct berr *e);
/* The owner moves on: the process is killed, done is not called. */
void sv_exec_abandon(struct sv_exec *x);

struct sv_client {
    struct supervisor *sv;
    uv_pipe_t pipe;
    struct sv_ctr **watch; /* containers whose progress it gets */
    size_t n_watch;
    struct linebuf in;
    bool closing;
    bool events;        /* subscribed to the event stream (sv_events.c) */
    char **ev_services; /* ... of these services only; NULL: all */
    struct sv_client *next;
};

/* A start request: done when each of its containers is started (or
 * healthy), or as soon as one of them fails. */
struct sv_waiter {
    struct sv_ctr **ctrs;
    size_t n;
    bool healthy;
    bool done;
    struct sv_client *client; /* NULL: the attached terminal / events_fd */
    struct sv_waiter *next;
};

/* A stop request: answered when each of its containers is down. */
struct stop_wait {
    struct sv_client *cl;
    struct sv_ctr **ctrs;
    size_t n;
    struct stop_wait *next;
};

struct supervisor {
    uv_loop_t loop;
    struct runtime *rt;
    struct sv_options opt;
    uv_signal_t sig_int, sig_term, sig_hup;
    bool signals_open;
    uv_pipe_t server;
    bool server_open;
    char *sock_path;
    struct sv_ctr **ctrs;
    size_t n;
    struct sv_client *clients;
    struct sv_waiter *waiters;
    struct stop_wait *stop_waits; /* stop requests waiting for their containers */
    int width;
    int interrupts;
    int interrupt_sig;
    bool aborting;
    bool have_code;
    int exit_code;
    bool start_failed;
    bool quitting;
    bool stopping_all; /* the whole project is stopping (signal, failed start, abort) */
    char *stop_reason; /* ... and why */
    bool told_ready;   /* READY=1 went to the service manager */
    char *told_status; /* the last STATUS= it got */
    /* recent events, for `berth events --since` (sv_events.c) */
    struct ev_ring ring;
    /* networking (sv_net.c) */
    struct sv_dns *dns;   /* the embedded DNS server, made on first use */
    struct sv_dir *peers; /* other projects' containers it answers for (sv_dir.h) */
    unsigned mtu;         /* of the host's default route; 0: not asked yet */
    bool forwarding_checked;
    bool forwarding6_checked; /* the same for IPv6, once a container has an IPv6 route */
    bool rules_applied;       /* the project's nftables table is ours to update */
    char readbuf[65536];
};

int64_t sv_now_ns(void);
/* A container's run state as the supervisor knows it now; sv_save_state
 * writes it to disk (records.h), the "state" request sends it. */
void sv_run_state(const struct sv_ctr *c, struct run_state *out);
void sv_save_state(struct sv_ctr *c);
/* Hands an event on: to the sink of sv_options. Every event of the
 * supervisor goes through here. */
void sv_emit(struct supervisor *sv, struct ev *e);
/* A container's event with docker's attributes (name, image; logName when
 * the container shows under another name), borrowing c's strings. */
void sv_ctr_ev(const struct sv_ctr *c, struct ev *e, const char *action, const char *status);
/* A container's warning (ev_warn's "warning" event), through sv_emit. */
void sv_warn(struct sv_ctr *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emits a container's event that is also progress (it has a status:
 * " Container proj-web-1  Started"): it goes to everyone waiting on a
 * request for the container and to events_fd as well. */
void sv_progress_ev(struct sv_ctr *c, struct ev *e);
void sv_progress(struct sv_ctr *c, const char *action, const char *status, const char *detail);
/* Sends a signal to the container's running process and emits "kill"
 * (with status: as progress). */
void sv_signal_ctr(struct sv_ctr *c, int sig, const char *status);
void sv_check_waiters(struct supervisor *sv);
/* Stops a container: its stop signal, then SIGKILL after grace_ns (-1: the
 * service's stop_grace_period); force: SIGKILL at once. */
void sv_stop_ctr(struct sv_ctr *c, bool force, int64_t grace_ns);
void sv_schedule(struct supervisor *sv);
void sv_maybe_quit(struct supervisor *sv);
struct sv_ctr *sv_find_ctr(struct supervisor *sv, const char *name);
/* For pid and ipc container:NAME (plan_find_ctr_fn, ctx the supervisor):
 * a pidfd (a dup, the caller's) of that running container's init. */
int sv_procns_find(void *ctx, const char *name, int *pidfd, struct berr *e);
void sv_start_request(struct supervisor *sv, const struct ctr_record *recs, size_t n,
                      bool wait_healthy, struct sv_client *cl);

void sv_client_send(struct sv_client *cl, json_t *msg);
/* The client gets the progress of these containers from now on. */
void sv_client_watch(struct sv_client *cl, struct sv_ctr **ctrs, size_t n);
void sv_client_close(struct sv_client *cl);
/* sv_client_close without asking whether the supervisor is done now: for
 * the event stream, whose subscribers never keep it alive. */
void sv_client_detach(struct sv_client *cl);

/* Answers the stop requests whose containers are all down (sv_control.c). */
void sv_check_stops(struct supervisor *sv);

/* Logging (supervisor.c): the container's log writer opened as its plan
 * says; one line of its output (idx 0 stdout, 1 stderr) to the log and to
 * the attached view (unless attach: false). */
int sv_log_open(struct sv_ctr *c, const char *dir, struct berr *e);
void sv_log_line(struct sv_ctr *c, int idx, const char *data, size_t len);

/* Lifecycle hooks (sv_hooks.c). sv_hooks_post_start, after a start: true
 * when hooks run (the start is reported when they are done).
 * sv_hooks_pre_stop, at a stop: true when the stop must wait for them (it
 * is asked again, with grace_ns, once they are done). sv_hooks_stop: the
 * run ends or is killed. sv_hooks_post_start_failed (supervisor.c): the
 * container is stopped and its start fails with msg. */
bool sv_hooks_post_start(struct sv_ctr *c);
bool sv_hooks_pre_stop(struct sv_ctr *c, int64_t grace_ns);
void sv_hooks_stop(struct sv_ctr *c);
void sv_hooks_post_start_failed(struct sv_ctr *c, const char *msg);

/* Healthchecks (sv_health.c): started with each run, stopped at its end. */
void sv_health_start(struct sv_ctr *c);
void sv_health_stop(struct sv_ctr *c);

/* Networking (sv_net.c). sv_net_request binds the published ports of a
 * start request's containers and applies the project's nftables rules:
 * a busy port fails the request before any of them starts. sv_net_prepare,
 * at each start: the container's namespace and links (once), the
 * generated /etc files added to ms, the namespace to join in spec
 * (*netns_path, heap, lives until the start is done). sv_net_forget: a
 * container removed (its ports, DNS sockets, namespace); sv_net_close:
 * the supervisor ends. */
struct container_spec;
struct mount_set;
int sv_net_request(struct supervisor *sv, struct sv_ctr **list, size_t n, struct berr *e);
int sv_net_prepare(struct sv_ctr *c, struct container_spec *spec, struct mount_set *ms,
                   char **netns_path, struct berr *e);
void sv_net_forget(struct sv_ctr *c);
void sv_net_close(struct supervisor *sv);
/* The host port bound for c's i-th published port (0: none). */
uint16_t sv_net_published(const struct sv_ctr *c, size_t i);
/* Whether port i is bound on :: as well as 0.0.0.0 (no host_ip, and the
 * container has an IPv6 address). */
bool sv_net_published_v6_too(const struct sv_ctr *c, size_t i);

/* Network shaping (sv_shape.c): sv_shape_attach when the links are made
 * (nsfd, before the supervisor holds it); sv_shape_adopt when a start
 * request brings c's record again (a changed x-berth-network applied in
 * place); sv_shape_forget removes its ifb devices unless it runs. */
int sv_shape_attach(struct sv_ctr *c, int nsfd, struct berr *e);
void sv_shape_adopt(struct sv_ctr *c, const struct ctr_record *rec);
void sv_shape_forget(struct sv_ctr *c);

/* The host's resolvers (resolv_conf, NULL: /etc/resolv.conf, following
 * systemd-resolved's stub; none: public fallbacks), NULL-terminated. */
char **sv_host_upstreams(const char *resolv_conf);
/* The embedded DNS server's UDP and listening TCP sockets, bound at
 * 127.0.0.11:53 inside the namespace nsfd; who names it in the error. */
int sv_dns_bind_ns(int nsfd, const char *who, int *udp, int *tcp, struct berr *e);
/* Whether a container (its service and name, its aliases on a network)
 * answers to name there, for an asker with these links ("CONTAINER:ALIAS"):
 * the embedded DNS server's rule (sv_net.c). */
bool sv_answers_to(const char *service, const char *ctr, char **aliases, char **links,
                   const char *name);
/* Appends ep's address of family (AF_INET: 4 bytes, AF_INET6: 16) at
 * out[*n] unless cap is reached: false when ep has none of that family
 * (the caller may look at the container's other endpoints). */
struct plan_endpoint;
bool sv_endpoint_addr(const struct plan_endpoint *ep, int family, uint8_t *out, size_t cap,
                      size_t *n);

/* Events (sv_events.c). sv_publish keeps a copy of e in the ring (its
 * time set if 0) and sends it to every subscriber that wants it. */
void sv_publish(struct supervisor *sv, const struct ev *e);
/* {"op":"events", "services":[...], "since_ns":N, "until_ns":M}: the
 * connection becomes a subscriber, first replaying the ring from since_ns
 * (to until_ns) when given; an until_ns already past ends it after that. */
void sv_events_subscribe(struct sv_client *cl, json_t *req);
/* The supervisor ends: each subscriber's stream ends with "done". */
void sv_events_end(struct supervisor *sv);
/* {"op":"state"}: "done" carrying "containers", each container's run
 * state by name, as the events have left it (`berth ps`). */
void sv_state_reply(struct sv_client *cl);

#endif
