/* tcp_state.h -- RFC 9293 connection states of one endpoint.
 *
 * The enum is in RFC 9293 section 3.3.2 order so that range predicates work;
 * TL_ST_UNKNOWN is tcplens's own: the capture has not shown enough yet
 * (mid-stream pickup). Names are spelt as the RFC spells them and are a
 * stable interface (JSON, text, tests).
 */
#ifndef TCPLENS_TCP_STATE_H
#define TCPLENS_TCP_STATE_H

#include <stdbool.h>

typedef enum tl_tcp_state {
    TL_ST_UNKNOWN = 0,
    TL_ST_CLOSED,
    TL_ST_LISTEN,
    TL_ST_SYN_SENT,
    TL_ST_SYN_RECEIVED,
    TL_ST_ESTABLISHED,
    TL_ST_FIN_WAIT_1,
    TL_ST_FIN_WAIT_2,
    TL_ST_CLOSE_WAIT,
    TL_ST_CLOSING,
    TL_ST_LAST_ACK,
    TL_ST_TIME_WAIT,
    TL_ST_COUNT
} tl_tcp_state;

/* "ESTABLISHED", "FIN-WAIT-1", ... ; "UNKNOWN" for TL_ST_UNKNOWN. */
const char *tl_tcp_state_name(tl_tcp_state s);
/* Parses the names above and the kernel's spellings ("FIN_WAIT1", "ESTAB",
 * "TIME_WAIT", ...). Returns TL_ST_UNKNOWN when not recognised. */
tl_tcp_state tl_tcp_state_parse(const char *name);

/* The endpoint has sent a FIN (FIN-WAIT-1 and later, CLOSING, LAST-ACK, TIME-WAIT). */
static inline bool tl_state_has_sent_fin(tl_tcp_state s)
{
    return s == TL_ST_FIN_WAIT_1 || s == TL_ST_FIN_WAIT_2 || s == TL_ST_CLOSING ||
           s == TL_ST_LAST_ACK || s == TL_ST_TIME_WAIT;
}

/* The endpoint has received the peer's FIN. */
static inline bool tl_state_has_rcvd_fin(tl_tcp_state s)
{
    return s == TL_ST_CLOSE_WAIT || s == TL_ST_CLOSING || s == TL_ST_LAST_ACK ||
           s == TL_ST_TIME_WAIT;
}

/* ESTABLISHED or any state reached from it (synchronized states). */
static inline bool tl_state_is_synchronized(tl_tcp_state s)
{
    return s >= TL_ST_ESTABLISHED && s <= TL_ST_TIME_WAIT;
}

#endif
