/* names.c -- names of TCP states (RFC 9293 section 3.3.2 spelling, plus the
 * kernel's and ss's spellings for parsing) and of how connections open and
 * close (SPEC.md 2.4). All names are stable interface.
 */
#include <string.h>
#include <strings.h>

#include "tcplens/tcp_state.h"
#include "tcplens/sink.h"

static const char *const tl_state_names[TL_ST_COUNT] = {
    [TL_ST_UNKNOWN] = "UNKNOWN",
    [TL_ST_CLOSED] = "CLOSED",
    [TL_ST_LISTEN] = "LISTEN",
    [TL_ST_SYN_SENT] = "SYN-SENT",
    [TL_ST_SYN_RECEIVED] = "SYN-RECEIVED",
    [TL_ST_ESTABLISHED] = "ESTABLISHED",
    [TL_ST_FIN_WAIT_1] = "FIN-WAIT-1",
    [TL_ST_FIN_WAIT_2] = "FIN-WAIT-2",
    [TL_ST_CLOSE_WAIT] = "CLOSE-WAIT",
    [TL_ST_CLOSING] = "CLOSING",
    [TL_ST_LAST_ACK] = "LAST-ACK",
    [TL_ST_TIME_WAIT] = "TIME-WAIT",
};

/* Other spellings: Linux's tcp_states.h / ss(8) ("ESTAB", "SYN-RECV"), the
 * kernel's enum names and netstat's ("FIN_WAIT1", "TIME_WAIT"). Matched
 * case-insensitively. */
static const struct {
    const char *name;
    tl_tcp_state st;
} tl_state_aliases[] = {
    {"ESTAB", TL_ST_ESTABLISHED},
    {"SYN_SENT", TL_ST_SYN_SENT},
    {"SYN-RECV", TL_ST_SYN_RECEIVED},
    {"SYN_RECV", TL_ST_SYN_RECEIVED},
    {"SYN_RECEIVED", TL_ST_SYN_RECEIVED},
    {"FIN-WAIT1", TL_ST_FIN_WAIT_1},
    {"FIN_WAIT1", TL_ST_FIN_WAIT_1},
    {"FIN_WAIT_1", TL_ST_FIN_WAIT_1},
    {"FIN-WAIT2", TL_ST_FIN_WAIT_2},
    {"FIN_WAIT2", TL_ST_FIN_WAIT_2},
    {"FIN_WAIT_2", TL_ST_FIN_WAIT_2},
    {"TIME_WAIT", TL_ST_TIME_WAIT},
    {"CLOSE", TL_ST_CLOSED},
    {"UNCONN", TL_ST_CLOSED},
    {"CLOSE_WAIT", TL_ST_CLOSE_WAIT},
    {"LAST_ACK", TL_ST_LAST_ACK},
};

const char *tl_tcp_state_name(tl_tcp_state s)
{
    if ((unsigned)s >= TL_ST_COUNT) return "UNKNOWN";
    return tl_state_names[s];
}

tl_tcp_state tl_tcp_state_parse(const char *name)
{
    if (!name) return TL_ST_UNKNOWN;
    for (int s = 0; s < TL_ST_COUNT; s++)
        if (strcasecmp(tl_state_names[s], name) == 0) return (tl_tcp_state)s;
    for (size_t i = 0; i < sizeof tl_state_aliases / sizeof tl_state_aliases[0]; i++)
        if (strcasecmp(tl_state_aliases[i].name, name) == 0) return tl_state_aliases[i].st;
    return TL_ST_UNKNOWN;
}

const char *tl_open_kind_name(tl_open_kind k)
{
    switch (k) {
    case TL_OPEN_HANDSHAKE: return "handshake";
    case TL_OPEN_SIMULTANEOUS_OPEN: return "simultaneous_open";
    case TL_OPEN_MIDSTREAM: return "midstream";
    default: return "";
    }
}

const char *tl_close_kind_name(tl_close_kind k)
{
    switch (k) {
    case TL_CLOSE_4WAY: return "close_4way";
    case TL_CLOSE_3WAY: return "close_3way";
    case TL_CLOSE_SIMULTANEOUS: return "simultaneous_close";
    case TL_CLOSE_RST_ABORT: return "rst_abort";
    case TL_CLOSE_REFUSED: return "refused";
    case TL_CLOSE_SYN_UNANSWERED: return "syn_unanswered";
    case TL_CLOSE_HALF_CLOSED: return "half_closed";
    case TL_CLOSE_OPEN: return "open";
    default: return "open";
    }
}
