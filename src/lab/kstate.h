/* kstate.h -- live TCP state transitions as the kernel makes them.
 *
 * Preferred source: the tracepoint sock:inet_sock_set_state, read from a
 * private tracefs instance (so the global trace buffer is left alone), which
 * sees every transition with the kernel's timestamp. Where tracefs cannot be
 * used (not root, inside a user namespace, not mounted), kstate falls back to
 * polling sock_diag snapshots every few milliseconds and reporting the
 * differences: transitions faster than the interval collapse into one.
 *
 * Ownership: tl_kstate_start() returns an owned handle; tl_kstate_stop()
 * stops the reader thread and frees it. Diag fds in the config stay the
 * caller's. Events handed to the callback are borrowed; the callback runs on
 * kstate's thread.
 */
#ifndef TL_LAB_KSTATE_H
#define TL_LAB_KSTATE_H

#include "lab/sockdiag.h"
#include "tcplens/packet.h"
#include "tcplens/tcp_state.h"
#include "tcplens/tcplens.h"

typedef enum tl_kstate_source {
    TL_KSTATE_TRACEPOINT = 0,
    TL_KSTATE_SOCK_DIAG,
} tl_kstate_source;

/* "tracepoint" / "sock_diag" (the JSON spelling). */
const char *tl_kstate_source_name(tl_kstate_source s);

typedef struct tl_kstate_event {
    tl_time ts;                /* CLOCK_REALTIME */
    int ns;                    /* sock_diag: index into cfg.diag_fds; tracepoint: -1 */
    tl_addr local, remote;
    uint16_t lport, rport;
    tl_tcp_state from, to;
    int kfrom, kto;            /* the kernel's TCP_* numbers (0 = no socket) */
    tl_kstate_source source;
    /* {0, 0}: `to` holds from ts on. Else when sock_diag saw `to`: after a
     * handover (-> CLOSE) the timewait socket's state is read when the
     * tracepoint line is processed, and an orphan's timewait socket may
     * have gone from FIN-WAIT-2 to TIME-WAIT after ts. */
    tl_time seen_ts;
} tl_kstate_event;

typedef void (*tl_kstate_cb)(void *ud, const tl_kstate_event *ev);

#define TL_KSTATE_MAX_NS 4

typedef struct tl_kstate_config {
    int port;                  /* -1: every TCP socket; else local or remote port */
    int family;                /* 0 both, AF_INET, AF_INET6 */
    /* sock_diag sockets to poll in the fallback, e.g. one per lab namespace;
     * none: one opened in the current network namespace. */
    int diag_fds[TL_KSTATE_MAX_NS];
    int n_diag_fds;
    unsigned poll_ms;          /* fallback interval; 0 = 2 ms */
    bool no_tracepoint;        /* go straight to sock_diag */
    /* When tracefs is not mounted and we are root, mount it in a private
     * mount namespace of this process (the host's mounts are not touched).
     * Needs a single-threaded process at the time of the call. */
    bool mount_private_tracefs;
} tl_kstate_config;

typedef struct tl_kstate tl_kstate;

TL_MUST_USE int tl_kstate_start(tl_kstate **out, const tl_kstate_config *cfg, tl_kstate_cb cb,
                                void *ud, char *errbuf);
tl_kstate_source tl_kstate_get_source(const tl_kstate *k);
/* Why the tracepoint was not used ("" when it is). */
const char *tl_kstate_fallback_reason(const tl_kstate *k);
void tl_kstate_stop(tl_kstate *k);

/* Keeps the watcher's thread from starting a round of work (it allocates
 * and calls cb) until released; waits for the round under way. Around a
 * fork(): a child that inherits an allocator lock held by that thread
 * waits for it forever (seen with clang 14's ASan allocator). k may be NULL. */
void tl_kstate_hold(tl_kstate *k);
void tl_kstate_release(tl_kstate *k);

/* Parses one trace_pipe line of sock:inet_sock_set_state into ev (ts is the
 * trace clock's seconds). Pure; false when the line is not such an event or
 * not TCP. */
bool tl_kstate_parse_trace_line(const char *line, tl_kstate_event *ev);

#endif
