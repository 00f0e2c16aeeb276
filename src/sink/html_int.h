/* html_int.h -- internals of the `--html` report sink (SPEC.md 3.5), shared
 * by sink_html.c (collecting, the page's frame and index), html_conn.c
 * (drawing a connection), html_json.c (the decode panel's data) and
 * html_assets.c (the inline CSS and script, escaping).
 *
 * Memory is bounded: packets are kept per open connection only, at most
 * TL_HTML_MAX_PKTS per connection and TL_HTML_BUDGET over all open ones;
 * at most TL_HTML_MAX_SECTIONS connections are drawn. What is left out is
 * counted and said on the page.
 */
#ifndef TL_SINK_HTML_INT_H
#define TL_SINK_HTML_INT_H

#include <stdio.h>

#include "tcplens/sink.h"

#define TL_HTML_MAX_PKTS 2000       /* packets drawn per connection */
#define TL_HTML_BUDGET 200000       /* packets held over all open connections */
#define TL_HTML_MAX_SECTIONS 1000   /* connections drawn */
#define TL_HTML_MAX_EVENTS 4000     /* events kept per connection */
#define TL_HTML_MAX_CHANGES 1000    /* state changes kept per connection */
#define TL_HTML_MAX_MISC 2000       /* packets outside connections, malformed frames */
#define TL_HTML_MAX_ERRORS 100
#define TL_HTML_PAYLOAD 48          /* payload bytes kept with -x / -A */

/* One segment, copied out of the borrowed tl_pkt_view. */
typedef struct tl_html_pkt {
    uint64_t n;
    tl_time ts;
    tl_addr src, dst;
    uint16_t sport, dport, win, urg_ptr, cksum;
    uint16_t vlan[2];
    uint32_t seq, ack, rel_seq, rel_ack;
    uint32_t len, caplen, ip_len, ip_hlen, tcp_hlen;
    int64_t win_scaled;
    uint8_t flags, from, ip_version, ttl, n_vlan, cksum_status, n_analysis;
    uint8_t before[2], after[2];            /* client, server */
    uint8_t analysis[TL_MAX_ANALYSIS];
    bool rel_ack_valid, skipped, ip_options;
    uint8_t npl;                            /* payload bytes kept (-x / -A) */
    uint8_t pl[TL_HTML_PAYLOAD];
    tl_tcp_options opt;
} tl_html_pkt;

typedef struct tl_html_event {
    uint64_t n;
    tl_time ts;
    double value;
    char *text;                 /* owned; NULL = the kind's fixed explanation */
    uint8_t kind, by;
} tl_html_event;

typedef struct tl_html_change {
    uint64_t n;
    tl_time ts;
    uint8_t endpoint, from, to;
} tl_html_change;

/* A connection being collected. */
typedef struct tl_html_conn {
    uint32_t id;
    tl_html_pkt *pkts;
    size_t npkts, cap;
    uint64_t more;              /* packets seen but not kept */
    tl_html_event *ev;
    size_t nev, evcap;
    uint64_t ev_more;
    tl_html_change *ch;
    size_t nch, chcap;
} tl_html_conn;

/* What the index at the top lists for a drawn connection. */
typedef struct tl_html_index {
    unsigned section;
    uint32_t conn;
    char uid[20];
    char client[64], server[64];
    uint16_t cport, sport;
    char conn_state[8];
    char history[TL_HISTORY_MAX];
    uint8_t opened, closed, closed_by;
    double duration;
    uint64_t pkts[2], bytes[2];
} tl_html_index;

typedef struct tl_html_misc {
    uint64_t n;
    tl_time ts;
    uint8_t result, reason;
    bool is_tcp;
    tl_html_pkt pkt;            /* when is_tcp (a segment outside any connection) */
} tl_html_misc;

typedef struct tl_html {
    FILE *fp;
    tl_output_opts o;
    bool have_t0;
    tl_time t0;
    unsigned section;           /* sections written (DOM ids s1, s2, ...) */
    /* open connections: open addressing on the id */
    tl_html_conn **slots;
    size_t nslots, nopen;
    size_t held;                /* packets held over all open connections */
    uint64_t conns_not_drawn, pkts_not_drawn;
    tl_html_index *index;
    size_t nindex;
    tl_html_misc *misc;
    size_t nmisc;
    uint64_t misc_more;
    tl_error_record *errs;      /* file and text owned */
    size_t nerrs;
    uint64_t errs_more;
} tl_html;

/* html_conn.c: writes one connection's section (ladder, timeline, table,
 * data) and its index row; rec may be NULL (no record came). */
void tl__html_conn_section(tl_html *h, tl_html_conn *c, const tl_conn_record *rec);
/* html_json.c: the section's <script type="application/json"> block
 * (id "s<section>-data") with the packets and events; conn 0 = none. */
void tl__html_json_block(tl_html *h, unsigned section, uint32_t conn, const tl_html_pkt *pkts, size_t n,
                         const tl_html_event *ev, size_t nev);
/* The segments outside connections and the malformed frames, if any. */
void tl__html_misc_section(tl_html *h);
/* Seconds shown for a timestamp (-tt: absolute, else since the first packet). */
double tl__html_time(const tl_html *h, tl_time ts);

/* html_assets.c */
extern const char tl__html_css[];
extern const char tl__html_js[];
/* Writes s with & < > " ' escaped; bytes that are not UTF-8 or are control
 * characters become U+FFFD. */
void tl__html_esc(FILE *fp, const char *s);
void tl__html_escn(FILE *fp, const char *s, size_t n);
/* Copies JSON text into a <script> block: every '<' becomes \u003c (it
 * only occurs inside strings), so "</script>" cannot end the block. */
void tl__html_json_copy(FILE *fp, const char *json, size_t n);
/* "S", "S.", "F.", "R", "P." -- tcpdump's letters, ACK last as '.'. */
void tl__html_flags(uint8_t flags, char *buf);

#endif
