/* source.h -- stage 1 of the pipeline: where frames come from.
 *
 * A tl_source yields raw link-layer frames with their timestamp, link type,
 * packet number and the byte offset of the record in its file. It owns the
 * frame bytes; a tl_frame is borrowed until the next tl_source_next() call.
 *
 * Implementations (src/source/):
 *   files   one or more capture files (pcap or pcapng, "-" = stdin) read as
 *           one timeline in the given order, through libpcap.
 *   mem     pcap/pcapng bytes in a caller buffer (tests, fuzz targets).
 *   live    a live interface (pcap_create + pcap_activate).
 *
 * A BPF filter (tcpdump syntax) may be set; packets it rejects are skipped
 * but still counted, so tl_frame.n numbers every record as tcpdump -# and
 * Wireshark do.
 */
#ifndef TCPLENS_SOURCE_H
#define TCPLENS_SOURCE_H

#include "tcplens/tcplens.h"

typedef struct tl_source tl_source;

typedef struct tl_frame {
    const uint8_t *data;  /* captured bytes; borrowed */
    uint32_t caplen;      /* bytes in data */
    uint32_t len;         /* length on the wire */
    tl_time ts;
    int linktype;         /* DLT_* value */
    uint64_t n;           /* 1-based record number over the whole timeline */
    int64_t offset;       /* byte offset of the record header in its file, -1 unknown */
    const char *file;     /* name of the file it came from (borrowed), "-" for stdin */
} tl_frame;

typedef struct tl_source_stats {
    uint64_t records;         /* records read, including filtered ones */
    uint64_t filtered;        /* rejected by the BPF filter */
    uint64_t kernel_dropped;  /* live only: pcap_stats ps_drop */
    uint64_t iface_dropped;   /* live only: pcap_stats ps_ifdrop */
    bool has_kernel_stats;
} tl_source_stats;

typedef struct tl_live_config {
    const char *iface;     /* NULL = "any" */
    int snaplen;           /* 0 = 262144 */
    int buffer_kib;        /* 0 = libpcap default */
    bool immediate;        /* immediate mode */
    bool promisc;
} tl_live_config;

/* Open files as one timeline. paths[i] == "-" means standard input. */
TL_MUST_USE int tl_source_open_files(tl_source **out, const char *const *paths,
                                     size_t npaths, char *errbuf);
/* pcap or pcapng bytes in memory; buf must outlive the source. */
TL_MUST_USE int tl_source_open_mem(tl_source **out, const uint8_t *buf, size_t len,
                                   char *errbuf);
/* Live capture; after this returns, the caller may drop privileges. */
TL_MUST_USE int tl_source_open_live(tl_source **out, const tl_live_config *cfg,
                                    char *errbuf);

/* Compile and apply a tcpdump-syntax filter (NULL or "" = none). */
TL_MUST_USE int tl_source_set_filter(tl_source *src, const char *filter, char *errbuf);

/* Next frame: 1 = got a frame, 0 = end of input, < 0 = error (errbuf says
 * file, offset, packet number and what is wrong). A truncated final record is
 * reported as TL_ETRUNC; the caller treats it as a warning. After an error the
 * source may continue with the next file; call again until 0. */
TL_MUST_USE int tl_source_next(tl_source *src, tl_frame *frame, char *errbuf);

/* Up to max (>= 1) frames into frames[0..): how many (>= 1), 0 = end of
 * input, < 0 = error, exactly as that many tl_source_next calls would give
 * them; all stay valid until the next call. A mapped pcap file yields
 * several records per call, the rest one: the per-call work was most of
 * reading a record. */
TL_MUST_USE int tl_source_next_batch(tl_source *src, tl_frame *frames, int max, char *errbuf);

/* Where the last error of tl_source_next happened: file name (borrowed),
 * byte offset of the record (-1 unknown) and packet number (0 unknown). */
typedef struct tl_source_where {
    const char *file;
    int64_t offset;
    uint64_t packet;
} tl_source_where;
void tl_source_last_error(const tl_source *src, tl_source_where *where);

/* Live sources call fn about every 200 ms while no packet arrives, with the
 * wall-clock time, so that idle connections are summarised on time even
 * when the network goes quiet. Offline sources never call it. */
typedef void (*tl_source_idle_fn)(void *ud, tl_time now);
void tl_source_set_idle(tl_source *src, tl_source_idle_fn fn, void *ud);

/* Interrupt a blocking live read (safe from a signal handler). */
void tl_source_break(tl_source *src);

/* Selectable fd for live sources, -1 otherwise. */
int tl_source_fd(const tl_source *src);

/* DLT of the frames (of the current file, for a file timeline). */
int tl_source_linktype(const tl_source *src);

/* Number of fractional timestamp digits of the input (6 or 9). */
int tl_source_ts_digits(const tl_source *src);

void tl_source_stats_get(tl_source *src, tl_source_stats *st);

/* Write frames to a pcap file (watch -w, lab -w). Owned; free with _close. */
typedef struct tl_dumper tl_dumper;
TL_MUST_USE int tl_dumper_open(tl_dumper **out, const char *path, int linktype,
                               int ts_digits, char *errbuf);
void tl_dumper_write(tl_dumper *d, const tl_frame *f);
void tl_dumper_flush(tl_dumper *d);
void tl_dumper_close(tl_dumper *d);

void tl_source_free(tl_source *src);

#endif
