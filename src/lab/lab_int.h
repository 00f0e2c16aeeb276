/* lab_int.h -- internals shared by lab_run.c, lab_timeline.c and
 * lab_check.c: everything one scenario run collected, and the options of a
 * lab run. Not a public interface.
 */
#ifndef TL_LAB_INT_H
#define TL_LAB_INT_H

#include <pthread.h>
#include <stdio.h>

#include "lab/kstate.h"
#include "lab/scenario.h"
#include "tcplens/sink.h"

/* A wire packet, copied off the wire's thread. */
typedef struct tl_lab_pkt {
    uint64_t n;               /* wire order, 1-based */
    tl_wire_dir dir;
    uint8_t *data;
    size_t len;
    tl_time ts_in, ts_out;
    bool dropped;
    tl_wire_action action;
    int rule;
    tl_wire_pkt_info info;
} tl_lab_pkt;

/* A connection's identity: client and server address and port. */
typedef struct tl_lab_tuple {
    tl_addr caddr, saddr;
    uint16_t cport, sport;
} tl_lab_tuple;

/* A state change inferred for one endpoint from the order in which that
 * endpoint sent and received the wire's packets. */
typedef struct tl_lab_inferred {
    tl_time ts;
    uint64_t n;               /* wire packet that caused it */
    tl_lab_tuple t;
    tl_role endpoint;
    tl_tcp_state from, to;
} tl_lab_inferred;

typedef struct tl_lab_event_rec {
    tl_event_kind kind;
    tl_role by;
    tl_time ts;
    double value;
} tl_lab_event_rec;

typedef struct tl_lab_check_rec {
    char name[96];
    bool ok;
    char text[400];
} tl_lab_check_rec;

/* A growable array of fixed-size items. */
typedef struct tl_lab_vec {
    void *items;
    size_t n, cap, size;
} tl_lab_vec;

void *tl__lab_vec_push(tl_lab_vec *v, const void *item);
void tl__lab_vec_free(tl_lab_vec *v);
#define TL_LAB_AT(vec, type, i) (&((type *)(vec).items)[i])

struct tl_lab_result {
    const tl_scenario *sc;
    int family;                    /* the sockets' address family: AF_INET or AF_INET6 */
    pthread_mutex_t lock;          /* pkts and kev are appended from other threads */
    tl_lab_vec pkts;               /* tl_lab_pkt */
    tl_lab_vec recs;               /* tl_call_rec from both sides */
    tl_lab_vec kev;                /* tl_kstate_event */
    tl_lab_vec inferred;           /* tl_lab_inferred */
    tl_lab_vec events;             /* tl_lab_event_rec */
    tl_lab_vec checks;             /* tl_lab_check_rec */
    bool have_kstate;
    tl_kstate_source ksource;
    char kstate_why[TL_ERRBUF_SIZE + 8]; /* why the tracepoint was not used */
    int status[2];                 /* wait status: client, server */
    uint64_t wire_errors;          /* the wire's failed reads and sends */
    bool timed_out;
};

typedef struct tl_lab_opts {
    FILE *out;
    bool json;
    bool color;
    const char *pcap_dir;          /* -w DIR */
    tl_sink *html;                 /* --html FILE: the page's sink, or NULL */
    bool keep_going;
    int family;                    /* AF_INET (0 is read as it) or AF_INET6: -6 */
} tl_lab_opts;

/* lab_timeline.c: feeds the trackers, prints the merged timeline (text or
 * JSON), fills r->inferred and r->events, writes the pcap. */
int tl__lab_timeline(tl_lab_result *r, const tl_lab_opts *o, char *errbuf);
/* Prints the checks (text or JSON) and returns how many failed. */
int tl__lab_print_checks(const tl_lab_result *r, const tl_lab_opts *o);
/* Writes one scenario-level JSON/text record: SKIPPED and why. */
void tl__lab_print_skip(const tl_scenario *sc, const tl_lab_opts *o, const char *why);

/* lab_check.c: the checks every scenario gets. */
void tl__lab_generic_checks(tl_lab_result *r);

/* lab_stream.c: for each record of r->recs, how many of the peer's send
 * calls a recv that returned data took bytes from (0 for every other
 * record), matching the calls' byte streams per socket (ports). writes has
 * r->recs.n entries. Two or more is the `coalesced` event. */
void tl__lab_writes_per_read(const tl_lab_result *r, int *writes);

/* The side whose address a is (client or server); -1 when neither. */
int tl__lab_addr_side(const tl_addr *a);
/* "ESTABLISHED -> FIN-WAIT-1" from a list of states. */
void tl__lab_path_format(const tl_tcp_state *st, size_t n, char *buf, size_t len);

/* lab_run.c */
/* An empty result for scenario sc (NULL in tests); release frees what the
 * run added, packet data included. */
void tl__lab_result_init(tl_lab_result *r, const tl_scenario *sc);
void tl__lab_result_release(tl_lab_result *r);
int tl_lab_run(const tl_scenario *const *list, size_t n, const tl_lab_opts *o);

#endif
