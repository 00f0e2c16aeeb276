/* event_table.c -- the one table of event kinds: stable name, plain-language
 * explanation and whether Wireshark lists the kind under tcp.analysis.
 *
 * Names are a stable interface (SPEC.md 2.3; JSON "event", tests). The
 * analysis kinds follow Wireshark's packet-tcp.c definitions (tcp.analysis.*);
 * the close kinds follow RFC 9293 section 3.6.
 */
#include <string.h>

#include "tcplens/event.h"

typedef struct tl_event_info {
    const char *name;
    const char *explain;
    bool analysis;
} tl_event_info;

static const tl_event_info tl_events[TL_EV_COUNT] = {
    [TL_EV_HANDSHAKE] = {"handshake",
        "The three-way handshake completed: each side's SYN was acknowledged with its ISN + 1.",
        false},
    [TL_EV_SIMULTANEOUS_OPEN] = {"simultaneous_open",
        "Both endpoints sent a SYN before seeing the other's, so both went through SYN-RECEIVED.",
        false},
    [TL_EV_REFUSED] = {"refused",
        "The SYN was answered with an RST: nothing is listening on that port (ECONNREFUSED).",
        false},
    [TL_EV_SYN_RETRANSMIT] = {"syn_retransmit",
        "The SYN was sent again because no answer came; the interval doubles each time.",
        false},
    [TL_EV_DATA] = {"data",
        "The endpoint sent payload bytes; they occupy that many sequence numbers.",
        false},
    [TL_EV_ACK] = {"ack",
        "The receiver acknowledged the data: its ACK number is the sender's seq plus length.",
        false},
    [TL_EV_FIN] = {"fin",
        "The endpoint closed its sending direction (close() or shutdown(SHUT_WR)); it sends no more data.",
        false},
    [TL_EV_HALF_CLOSE] = {"half_close",
        "One direction is closed while the other still carries data.",
        false},
    [TL_EV_CLOSE_4WAY] = {"close_4way",
        "The connection closed in four segments: FIN, ACK, FIN, ACK.",
        false},
    [TL_EV_CLOSE_3WAY] = {"close_3way",
        "The connection closed in three segments: the second FIN carried the ACK of the first (delayed ACK).",
        false},
    [TL_EV_SIMULTANEOUS_CLOSE] = {"simultaneous_close",
        "Both FINs crossed on the wire, so both endpoints went through CLOSING.",
        false},
    [TL_EV_RST_ABORT] = {"rst_abort",
        "An RST ended an established connection at once, without the FIN exchange (e.g. SO_LINGER {1,0}).",
        false},
    [TL_EV_RST_CLOSED_SOCKET] = {"rst_closed_socket",
        "Data arrived for a socket that was already closed, so the kernel answered with an RST.",
        false},
    [TL_EV_RST_UNREAD_DATA] = {"rst_unread_data",
        "The socket was closed with unread data in its receive buffer, so it sent an RST instead of a FIN.",
        false},
    [TL_EV_TIME_WAIT] = {"time_wait",
        "The active closer entered TIME-WAIT and keeps the 4-tuple for 2 MSL (60 s on Linux).",
        false},
    [TL_EV_RETRANSMISSION] = {"retransmission",
        "The segment carries sequence numbers that were already sent: it was sent again.",
        true},
    [TL_EV_FAST_RETRANSMISSION] = {"fast_retransmission",
        "The segment was resent right after duplicate ACKs reported it missing (fast retransmit).",
        true},
    [TL_EV_SPURIOUS_RETRANSMISSION] = {"spurious_retransmission",
        "The segment was resent although the receiver had already acknowledged it.",
        true},
    [TL_EV_OUT_OF_ORDER] = {"out_of_order",
        "The segment arrived after a later one: it fills a gap but was not resent by timeout.",
        true},
    [TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED] = {"previous_segment_not_captured",
        "There is a gap before this segment: an earlier segment was lost or not captured.",
        true},
    [TL_EV_ACK_UNSEEN_SEGMENT] = {"ack_unseen_segment",
        "This ACK covers data the capture never showed: the segment was not captured.",
        true},
    [TL_EV_DUP_ACK] = {"dup_ack",
        "The receiver repeated its last ACK: it is still waiting for a missing segment.",
        true},
    [TL_EV_ZERO_WINDOW] = {"zero_window",
        "The receiver advertised a zero window: its buffer is full and the sender must stop.",
        true},
    [TL_EV_WINDOW_FULL] = {"window_full",
        "The sender filled the receiver's whole advertised window and must wait for an ACK.",
        true},
    [TL_EV_WINDOW_UPDATE] = {"window_update",
        "The receiver only announced a new window size; no data and no new ACK.",
        true},
    [TL_EV_ZERO_WINDOW_PROBE] = {"zero_window_probe",
        "The sender probed a zero window with one byte to learn when it opens again.",
        true},
    [TL_EV_KEEP_ALIVE] = {"keep_alive",
        "A keep-alive probe: one old sequence number, sent to check the idle peer is still there.",
        true},
    [TL_EV_KEEP_ALIVE_ACK] = {"keep_alive_ack",
        "The peer answered a keep-alive probe, so it is still alive.",
        true},
    [TL_EV_PORT_REUSED] = {"port_reused",
        "A new connection started on a 4-tuple (addresses and ports) used before.",
        true},
    [TL_EV_COALESCED] = {"coalesced",
        "Several writes arrived in one read: TCP is a byte stream and keeps no message boundaries.",
        false},
    [TL_EV_MALFORMED] = {"malformed",
        "The packet's headers contradict themselves, so it was counted and skipped.",
        false},
    [TL_EV_EVICTED] = {"evicted",
        "The connection was dropped from the table (connection limit or idle timeout) after its record was written.",
        false},
};

const char *tl_event_name(tl_event_kind k)
{
    if ((unsigned)k >= TL_EV_COUNT || !tl_events[k].name) return "unknown";
    return tl_events[k].name;
}

const char *tl_event_explain(tl_event_kind k)
{
    if ((unsigned)k >= TL_EV_COUNT || !tl_events[k].explain) return "";
    return tl_events[k].explain;
}

tl_event_kind tl_event_parse(const char *name)
{
    if (!name) return TL_EV_COUNT;
    for (int k = 0; k < TL_EV_COUNT; k++)
        if (tl_events[k].name && strcmp(tl_events[k].name, name) == 0) return (tl_event_kind)k;
    return TL_EV_COUNT;
}

bool tl_event_is_analysis(tl_event_kind k)
{
    return (unsigned)k < TL_EV_COUNT && tl_events[k].analysis;
}

const char *tl_role_name(tl_role r)
{
    switch (r) {
    case TL_ROLE_CLIENT: return "client";
    case TL_ROLE_SERVER: return "server";
    default: return "";
    }
}
