/* source_int.h -- internals shared by the source implementations.
 *
 * tl_source is a small vtable (libpcap pcap-int.h read_op / priv style):
 * source.c owns numbering, the BPF filter and the counters; each
 * implementation only yields raw records. Offline implementations (files,
 * mem) share tl__reader (source_offline.c), which dispatches to the readers:
 * pcap_buf.c walks classic pcap in place (mmap'ed files, memory), pcapng.c
 * reads every pcapng input, libpcap reads pipes and unusual pcap variants.
 */
#ifndef TL_SOURCE_INT_H
#define TL_SOURCE_INT_H

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "tcplens/source.h"

#include "util/compiler.h"

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
    int cur_dlt;       /* DLT of the current file (first interface), -1 none */
    bool live;         /* live: the filter runs in the kernel (pcap_setfilter) */

    char *filter;      /* filter text, NULL = none */
    /* Offline: the filter compiled once per link type seen (pcapng files
     * mix link types), looked up by the frame's linktype. */
    struct tl__prog *progs;
    size_t nprogs, progs_cap;
    size_t last_prog;  /* index of the last hit */
    pcap_t *handle;    /* live handle, or the libpcap offline handle; NULL otherwise */

    tl_source_where last_error;

    /* The current input's in-place reader, classic pcap or pcapng (set by
     * tl__reader_open_buf, cleared by tl__reader_close): with no offline
     * filter, tl_source_next (pcap) and tl_source_next_batch (both) take
     * its records directly instead of through ops->next. */
    struct tl__reader *direct;

    tl_source_idle_fn idle_fn;  /* live: called on read timeouts */
    void *idle_ud;

    volatile sig_atomic_t brk;
};

tl_source *tl__source_new(const struct tl_source_ops *ops, void *priv);

/* An implementation calls this when it starts reading from handle p (or
 * with NULL when it closed it); live: compiles the filter for p and sets it
 * in the kernel; offline: same as tl__source_dlt(pcap_datalink(p)).
 * Returns TL_EFILTER naming `name` when the filter is invalid there. */
/* Loads libpcap if it is not yet (pcap_lazy.c): 0, or TL_ENOTFOUND with
 * the reason. Only callers with no libpcap error buffer need it. */
int tl__pcap_load(char *errbuf);
int tl__source_attach(tl_source *src, pcap_t *p, const char *name, char *errbuf);

/* An offline reader learnt that frames of link type dlt follow (a pcap
 * header, a pcapng interface block): compiles the filter for it once
 * (cached). TL_EFILTER naming `name` when the filter is invalid there. */
int tl__source_dlt(tl_source *src, int dlt, const char *name, char *errbuf);

/* LINKTYPE_ value from a file -> DLT_ value, as libpcap maps them (they are
 * equal except for a few historical numbers, RAW 101 -> DLT_RAW above all). */
int tl__linktype_to_dlt(uint32_t linktype);

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

/* Largest pcapng block accepted (pcapng.c); longer is an error, never an
 * allocation. Largest classic record (libpcap's MAXIMUM_SNAPLEN). */
#define TL__NG_MAX_BLOCK (16u * 1024u * 1024u)
#define TL__PCAP_MAX_CAPLEN 262144u

enum tl__reader_kind {
    TL__RD_NONE = 0,
    TL__RD_LIBPCAP,  /* libpcap over a FILE: pipes, unusual pcap variants */
    TL__RD_PCAP_BUF, /* classic pcap walked in place (pcap_buf.c) */
    TL__RD_PCAPNG,   /* pcapng over a buffer or a FILE (pcapng.c) */
};

typedef struct tl__ng tl__ng;

/* One offline input being read, whichever reader does it. */
typedef struct tl__reader {
    enum tl__reader_kind kind;
    const char *name;  /* borrowed */
    tl_source *src;    /* told about link types for the filter; may be NULL */
    int linktype;      /* DLT of the file (pcap) or of the first interface */

    /* TL__RD_LIBPCAP */
    pcap_t *p;
    FILE *fp;          /* pcap_file(p), owned by p; or the pcapng stream */
    bool pcapng;
    bool seekable;

    /* TL__RD_PCAP_BUF and buffer-backed TL__RD_PCAPNG */
    const uint8_t *buf;
    size_t len, pos;
    size_t map_len;    /* != 0: buf is our mmap of that many bytes */
    int map_fd;        /* the mapped file, for its current size; -1 none */
    volatile sig_atomic_t shrunk;  /* the file shrank under the mapping (map_guard.c) */
    size_t dropped;    /* mapped bytes before this were given back */
    size_t release_at; /* pos from which tl__reader_release gives pages back; SIZE_MAX unmapped */
    bool swap;         /* pcap: file byte order differs from ours */
    bool be;           /* pcap: file is big-endian */
    bool nano;
    uint32_t frac_ns;  /* pcap: nanoseconds per unit of the fraction, 1 or 1000 */
    uint32_t snaplen;  /* pcap: libpcap's adjusted snapshot length */

    tl__ng *ng;        /* TL__RD_PCAPNG state */
} tl__reader;

/* libpcap over fp (ownership passes to the reader, also on failure). */
int tl__reader_open(tl__reader *r, FILE *fp, const char *name, bool pcapng,
                    bool seekable, char *errbuf);

/* A capture in buf[0, len): classic pcap (usual variants) is walked in
 * place, pcapng parsed in place. Returns 0 opened, 1 = a variant only
 * libpcap reads (caller falls back to tl__reader_open), < 0 error. The
 * buffer must outlive the reader; map_len != 0 makes the reader munmap it. */
int tl__reader_open_buf(tl__reader *r, tl_source *src, const uint8_t *buf,
                        size_t len, size_t map_len, const char *name, char *errbuf);

/* pcapng read block by block from a stream (stdin). Takes fp. */
int tl__reader_open_ngstream(tl__reader *r, tl_source *src, FILE *fp,
                             const char *name, char *errbuf);

/* 1 = record in frame, 0 = end, < 0 = TL_ETRUNC / TL_EFORMAT / TL_EFILTER
 * with "name: offset N, packet M: why". packet_no is the number the record
 * would get. */
int tl__reader_next(tl__reader *r, tl_frame *frame, uint64_t packet_no, char *errbuf);
void tl__reader_close(tl__reader *r);

/* Per-kind parts, dispatched by tl__reader_next/close. */
int tl__pcapbuf_open(tl__reader *r, char *errbuf);
int tl__pcapbuf_next(tl__reader *r, tl_frame *frame, uint64_t packet_no, char *errbuf);
int tl__ng_open(tl__reader *r, char *errbuf);
int tl__ng_next(tl__reader *r, tl_frame *frame, uint64_t packet_no, char *errbuf);
void tl__ng_free(tl__reader *r);

/* Walking records in a buffer is a chain of dependent loads (each length
 * says where the next record starts), so each record whose line is not
 * cached yet waits for memory: perf put 85 % of the pcap batch loop's
 * samples on the length load, 17 % of `read --conns` on h10m; with this,
 * the loop's share fell to 7 %, and the run took 11 % less time on a
 * quiet host, 18 % with the other core busy. The file is read in order, so
 * the batch loops ask now for the lines a later batch reads, two per
 * record (a headers-only record is 1.6 lines). A prefetch never faults,
 * past the mapping's end or its window either. The distance must reach
 * past the batch being taken (64 headers-only records are 7 KiB), or the
 * prefetches for its own later records come a few records early, not a
 * batch early: with 4 KiB the length load was again 80 % of the loop's
 * samples and the loop 14 to 26 % of `read --conns` on h10m; with 8 KiB,
 * 5 % (perf, cpu-clock). */
#define TL__PREFETCH_AHEAD 8192
static inline void tl__prefetch_ahead(const uint8_t *rec)
{
    /* as integers: the address may lie past the buffer's end */
    __builtin_prefetch((const void *)((uintptr_t)rec + TL__PREFETCH_AHEAD));
    __builtin_prefetch((const void *)((uintptr_t)rec + TL__PREFETCH_AHEAD + 64));
}

/* Mapped pages behind the read position are given back every this many
 * bytes, so memory does not grow with the file (SPEC §6). */
#define TL__MAP_WINDOW (256u * 1024u)
/* The largest folio the page cache holds a file in (PMD size on x86-64). */
#define TL__MAP_FOLIO_MAX (2u * 1024u * 1024u)
void tl__reader_drop_behind(tl__reader *r);

static inline void tl__reader_release(tl__reader *r)
{
    if (r->pos >= r->release_at)  /* pos - dropped >= TL__MAP_WINDOW, one compare */
        tl__reader_drop_behind(r);
}

#define TL__PCAP_REC_HDR 16u

static inline uint32_t tl__pcap_get32(const uint8_t *p, bool be)
{
    uint32_t v;
    memcpy(&v, p, 4);  /* one unaligned load, swapped when needed */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return be ? __builtin_bswap32(v) : v;
#else
    return be ? v : __builtin_bswap32(v);
#endif
}

/* Up to max whole classic pcap records of an in-place reader (TL__RD_PCAP_BUF)
 * within libpcap's limits, numbered after `records`: how many were taken.
 * It stops at the end, at any problem, which tl__pcapbuf_next then reports,
 * and where mapped pages are due to be given back, which tl__pcapbuf_next
 * does first. A record of 0 captured bytes also goes to tl__pcapbuf_next:
 * it is what the zeros of a file truncated under the mapping look like
 * (map_guard.c). */
int tl__pcapbuf_take_many(tl__reader *r, tl_frame *frames, int max, uint64_t records);
/* The same for pcapng in memory: a run of enhanced packet blocks (pcapng.c). */
int tl__ng_take_many(tl__reader *r, tl_frame *frames, int max, uint64_t records);

/* SIGBUS from a mapped file that another process truncated: zero pages
 * instead and r->shrunk set (map_guard.c). Add after mapping, remove
 * before unmapping. */
void tl__map_guard_add(tl__reader *r);
void tl__map_guard_remove(tl__reader *r);
/* The mapped file's size now (-1 unknown); whether it is below need bytes. */
long long tl__map_size_now(const tl__reader *r);
bool tl__map_shrunk_below(const tl__reader *r, size_t need);

/* Maps a regular file read-only for a sequential walk. 0 = mapped (*out,
 * *len; an empty file gives *len 0 and *out NULL), < 0 errno-style error. */
int tl__map_file(int fd, const uint8_t **out, size_t *len);

#endif
