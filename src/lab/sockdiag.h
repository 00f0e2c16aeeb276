/* sockdiag.h -- the kernel's own view of TCP sockets through NETLINK_SOCK_DIAG
 * (what `ss -tan` shows): the ground truth the lab compares tcplens's
 * inferred states with, and the data behind `tcplens states`.
 *
 * Ownership: tl_sockdiag_snapshot() returns an owned array; free it with
 * tl_sockdiag_free(). A netlink fd passed in stays the caller's.
 */
#ifndef TL_LAB_SOCKDIAG_H
#define TL_LAB_SOCKDIAG_H

#include "tcplens/packet.h"
#include "tcplens/tcp_state.h"
#include "tcplens/tcplens.h"

typedef struct tl_sockdiag_entry {
    tl_addr local, remote;    /* family 4 or 6 */
    uint16_t lport, rport;
    tl_tcp_state state;       /* RFC 9293 name of the kernel state */
    uint8_t kstate;           /* the kernel's TCP_* number (include/net/tcp_states.h) */
    uint32_t rqueue, wqueue;  /* LISTEN: accept queue length and backlog, as ss shows */
    uint32_t inode, uid;
    uint8_t timer;            /* idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME-WAIT, 4 probe */
    uint32_t expires_ms;
    uint8_t retrans;
} tl_sockdiag_entry;

typedef struct tl_sockdiag_filter {
    int family;   /* 0 both, AF_INET or AF_INET6 */
    int port;     /* -1 any; else the local or the remote port */
    uint32_t states;  /* bit (1 << TCP_*) per kernel state wanted; 0 = all */
} tl_sockdiag_filter;

/* Opens a NETLINK_SOCK_DIAG socket in the current network namespace; -errno. */
int tl_sockdiag_open(void);

/* Dumps all TCP sockets (every state, TIME-WAIT and request sockets
 * included) through nlfd (-1: open one for this call), filtered by f (NULL:
 * all). Returns TL_OK and an owned array, or < 0 with errbuf set. */
TL_MUST_USE int tl_sockdiag_snapshot(int nlfd, const tl_sockdiag_filter *f,
                                     tl_sockdiag_entry **out, size_t *n, char *errbuf);
void tl_sockdiag_free(tl_sockdiag_entry *e);

/* Kernel TCP_* number -> tcplens state (TCP_NEW_SYN_RECV is SYN-RECEIVED,
 * TCP_CLOSE is CLOSED); TL_ST_UNKNOWN for numbers it does not know. */
tl_tcp_state tl_sockdiag_state(int kstate);
/* Kernel spelling without the prefix ("ESTABLISHED", "FIN_WAIT1", ...). */
const char *tl_sockdiag_kernel_name(int kstate);
/* Kernel spelling -> number ("TCP_FIN_WAIT1" or "FIN_WAIT1"); -1 unknown. */
int tl_sockdiag_kernel_parse(const char *name);

/* "192.0.2.1:8888", "[2001:db8::1]:8888"; port 0 with wildcard_port gives
 * ":*" as ss prints a listener's peer. Returns buf. */
char *tl_sockdiag_endpoint(const tl_addr *a, uint16_t port, bool wildcard_port, char *buf,
                           size_t len);

/* Same socket (family, both addresses and ports). */
bool tl_sockdiag_same(const tl_sockdiag_entry *a, const tl_sockdiag_entry *b);

#endif
