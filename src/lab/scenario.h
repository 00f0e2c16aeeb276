/* scenario.h -- the lab's scenarios (SPEC.md 4.2): what each side does, the
 * wire rules and sysctls it needs, and the checks on what happened.
 *
 * A scenario is one C file in src/lab/scenarios/ defining a tl_scenario;
 * scenarios/table.c lists them. The lab (lab_run.c) builds a private
 * network, forks the server and then the client into their namespaces and
 * calls scenario->server / ->client there. Each side records its socket
 * calls through p->calls (calls.h); the two sides synchronise through
 * tl_lab_post / tl_lab_wait (pipes, not sleeps). After both have exited the
 * lab builds the merged timeline and calls scenario->check, which judges the
 * result with the tl_lab_* helpers below.
 */
#ifndef TL_LAB_SCENARIO_H
#define TL_LAB_SCENARIO_H

#include <sys/socket.h>
#include <sys/types.h>

#include "lab/calls.h"
#include "lab/netns.h"
#include "lab/wire.h"
#include "tcplens/event.h"
#include "tcplens/tcp_state.h"

#define TL_LAB_PORT 8888
#define TL_LAB_MAX_SYSCTL 8

/* What a scenario asks of the lab before its sides start. */
typedef struct tl_lab_setup {
    tl_wire_rule rules[TL_WIRE_MAX_RULES];
    size_t nrules;
    struct {
        tl_lab_side side;
        const char *key, *value;
    } sysctl[TL_LAB_MAX_SYSCTL];
    size_t nsysctl;
    int timeout_ms;   /* both sides must be done by then (default 10000) */
    int settle_ms;    /* after they exit: last packets, kernel timers (default 150) */
} tl_lab_setup;

/* A key starting with '?' is optional: skipped where the kernel lacks it. */
void tl_lab_setup_sysctl(tl_lab_setup *s, tl_lab_side side, const char *key, const char *value);
/* Adds a rule; returns its index (for release_on). */
int tl_lab_setup_rule(tl_lab_setup *s, tl_wire_dir dir, uint8_t mask, uint8_t value,
                      int payload, uint32_t first, uint32_t count, tl_wire_action action);

/* One side of a running scenario, inside its namespace (a child process). */
typedef struct tl_lab_proc {
    tl_lab_side side;
    tl_calls calls;
    int sync_in, sync_out;   /* from / to the other side */
    int diag[2];             /* sock_diag sockets in the client's and server's namespace */
    pid_t peer_pid;          /* the client knows the server's pid */
    uint16_t port;           /* the server's port */
    int family;              /* AF_INET or AF_INET6 (tcplens lab -6) */
} tl_lab_proc;

/* Tells the other side to go on. */
void tl_lab_post(tl_lab_proc *p);
/* Waits for the other side's post; false (and a note) after timeout_ms or
 * when the other side has gone. */
bool tl_lab_wait(tl_lab_proc *p, int timeout_ms);
/* Records the kernel's view of the lab port's sockets in namespace ns
 * (sock_diag), tagged with why. Returns how many sockets it saw. */
size_t tl_lab_snapshot(tl_lab_proc *p, tl_lab_side ns, const char *why);
/* The state the kernel reports for the lab port's connection in ns, polling
 * for up to wait_ms until it is `want` (TL_ST_UNKNOWN: return the first seen).
 * Records the final snapshot. */
tl_tcp_state tl_lab_wait_kstate(tl_lab_proc *p, tl_lab_side ns, tl_tcp_state want, int wait_ms,
                                const char *why);
/* The server's address in the run's family, with the given port. */
socklen_t tl_lab_server_addr(const tl_lab_proc *p, struct sockaddr_storage *ss, uint16_t port);
socklen_t tl_lab_client_addr(const tl_lab_proc *p, struct sockaddr_storage *ss, uint16_t port);
/* A TCP socket of the run's family (recorded); -1 on failure. */
int tl_lab_socket(tl_lab_proc *p);
/* socket + bind + listen on the server's address; -1 on failure (recorded). */
int tl_lab_listen(tl_lab_proc *p, uint16_t port, bool reuseaddr);
/* socket + connect to the server; the connected fd or -1. */
int tl_lab_connect(tl_lab_proc *p, uint16_t port);
/* Sleeps ms milliseconds (for kernel timers, never for synchronisation). */
void tl_lab_sleep_ms(int ms);

typedef struct tl_lab_result tl_lab_result;

typedef struct tl_scenario {
    const char *name;
    const char *summary;                /* one line for --list */
    void (*setup)(tl_lab_setup *s);     /* may be NULL */
    int (*server)(tl_lab_proc *p);      /* exit status of the side */
    int (*client)(tl_lab_proc *p);
    void (*check)(tl_lab_result *r);
    unsigned flags;                     /* TL_SC_* */
} tl_scenario;

#define TL_SC_SERVER_KILLED 1u          /* the server is meant to die by SIGKILL */

/* scenarios/table.c: every scenario, the tour first. */
extern const tl_scenario *const tl_lab_scenarios[];
extern const size_t tl_lab_n_scenarios;
#define TL_LAB_TOUR 6
const tl_scenario *tl_lab_scenario_find(const char *name);

/* ---- judging the result (lab_check.c) ----------------------------------- */

/* Adds a check. text says what was expected and what was seen. */
void tl_lab_check(tl_lab_result *r, const char *name, bool ok, const char *fmt, ...)
    TL_PRINTF(4, 5);

/* The nth (1-based) recorded call `call` of side; NULL when there is none. */
const tl_call_rec *tl_lab_call(const tl_lab_result *r, tl_lab_side side, const char *call, int nth);
/* How many calls `call` side made. */
int tl_lab_count_calls(const tl_lab_result *r, tl_lab_side side, const char *call);
/* Checks the nth call's result: ret, errno name (NULL: no error) and signal
 * (0: none). The check is named `name`. */
void tl_lab_expect_call(tl_lab_result *r, const char *name, tl_lab_side side, const char *call,
                        int nth, int64_t ret, const char *err, int sig);

/* Packets on the wire going dir (TL_WIRE_ANY both) whose flags & mask ==
 * value; payload -1 any, 0 none, 1 some. dropped: -1 any, 0 delivered, 1 dropped. */
int tl_lab_count_packets(const tl_lab_result *r, tl_wire_dir dir, uint8_t mask, uint8_t value,
                         int payload, int dropped);
/* Packets going dir whose flags & mask == value, counted from the first
 * packet going after_dir whose flags & after_mask == after_value (excluded). */
int tl_lab_count_packets_after(const tl_lab_result *r, tl_wire_dir after_dir, uint8_t after_mask,
                               uint8_t after_value, tl_wire_dir dir, uint8_t mask, uint8_t value);
/* True when every RST the sender of direction dir put on the wire is its
 * kernel answering a late segment after the socket was gone: no RST+ACK
 * (an abort), and no more bare RSTs than that sender's FINs beyond the
 * first. Under load a FIN may go out twice; each copy draws an ACK, and the
 * second can arrive after the socket closed (seen in make test). */
bool tl_lab_only_late_resets(const tl_lab_result *r, tl_wire_dir dir);
/* Events of that kind the tracker reported (TL_ROLE_NONE: by anyone). */
int tl_lab_count_events(const tl_lab_result *r, tl_event_kind k, tl_role by);
/* The nth event of that kind (its value, e.g. a backoff interval); NAN if none. */
double tl_lab_event_value(const tl_lab_result *r, tl_event_kind k, int nth);
/* A kernel snapshot taken in ns showed a lab-port socket in state s. */
bool tl_lab_kernel_saw(const tl_lab_result *r, tl_lab_side ns, tl_tcp_state s);
/* The kernel's path (tracepoint or polling, plus snapshots) for the side's
 * connected socket on the lab port, as "ESTABLISHED -> FIN-WAIT-1 -> ...";
 * also the path inferred from the wire for that endpoint. */
void tl_lab_kernel_path(const tl_lab_result *r, tl_lab_side side, char *buf, size_t len);
void tl_lab_inferred_path(const tl_lab_result *r, tl_lab_side side, char *buf, size_t len);
/* The inferred path of the side contains `seq` ("FIN-WAIT-1 -> CLOSING -> TIME-WAIT")
 * as consecutive states. */
bool tl_lab_inferred_has(const tl_lab_result *r, tl_lab_side side, const char *seq);
bool tl_lab_kernel_has(const tl_lab_result *r, tl_lab_side side, const char *seq);

#endif
