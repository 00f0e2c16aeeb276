/* source_int.h -- internals shared by the source implementations.
 *
 * tl_source is a small vtable (libpcap pcap-int.h read_op / priv style):
 * source.c owns numbering, the BPF filter and the counters; each
 * implementation only yields raw records. Offline implementations (files,
 * mem) share the tl__reader helpers of source_offline.c.
 */
#ifndef TL_SOURCE_INT_H
#define TL_SOURCE_INT_H

#include <signal.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "tcplens/source.h"

struct tl_source_ops {
    /* Next raw record (filter not applied, frame->n not set): 1, 0 at end,
     * < 0 error with errbuf filled and, where known, frame->file and
     * frame->offset naming the place of the error. */
    int (*next)(tl_source *src, tl_frame *frame, char *errbuf);
    /* Add implementation-specific numbers (kernel drops). May be NULL. */
    void (*stats)(tl_source *src, tl_source_stats *st);
    void (*close)(tl_source *src);
};

struct tl_source {
    const struct tl_source_ops *ops;
    void *priv;

    uint64_t records;  /* records numbered so far, filtered ones included */
    uint64_t filtered;
    int ts_digits;
    int probe_dlt;     /* DLT used to validate a filter before any file is open */
    bool live;         /* live: the filter runs in the kernel (pcap_setfilter) */

    char *filter;      /* filter text, NULL = none */
    bool have_prog;
    struct bpf_program prog;
    pcap_t *handle;    /* handle records currently come from, NULL between files */

    tl_source_where last_error;

    volatile sig_atomic_t brk;
};

tl_source *tl__source_new(const struct tl_source_ops *ops, void *priv);

/* An implementation calls this when it starts reading from handle p (or
 * with NULL when it closed it); compiles the filter for p's link type.
 * Returns TL_EFILTER naming `name` when the filter is invalid there. */
int tl__source_attach(tl_source *src, pcap_t *p, const char *name, char *errbuf);

/* What the first bytes of a capture say, read without libpcap so that
 * stdin can be probed before libpcap consumes it. */
typedef struct tl__probe {
    bool known;      /* magic recognised */
    bool pcapng;
    int ts_digits;   /* 6 or 9 */
    int dlt;         /* link type of the file / first interface, -1 unknown */
} tl__probe;

/* 1 = decided (p filled), 0 = need more bytes (only while the first pcapng
 * interface block is incomplete). Never reads past n. */
int tl__probe_bytes(const uint8_t *buf, size_t n, tl__probe *p);

/* One libpcap offline handle over a FILE. */
typedef struct tl__reader {
    pcap_t *p;
    FILE *fp;          /* pcap_file(p); owned by p */
    const char *name;  /* borrowed */
    bool pcapng;
    bool seekable;
    int linktype;
} tl__reader;

/* Opens fp (ownership passes to the reader, also on failure). */
int tl__reader_open(tl__reader *r, FILE *fp, const char *name, bool pcapng,
                    bool seekable, char *errbuf);
/* 1 = record in frame, 0 = end, < 0 = TL_ETRUNC / TL_EFORMAT with
 * "name: offset N, packet M: why". packet_no is the number the record
 * would get. */
int tl__reader_next(tl__reader *r, tl_frame *frame, uint64_t packet_no, char *errbuf);
void tl__reader_close(tl__reader *r);

#endif
