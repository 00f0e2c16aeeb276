/* tracker.h -- stage 3 of the pipeline: connections and endpoint states.
 *
 * The tracker receives every frame with its decode result, finds (or makes)
 * the connection it belongs to, infers the RFC 9293 state of both endpoints,
 * names what happened (events) and, when a connection ends or the input
 * ends, writes its record. Everything it produces goes to the sink it was
 * given (sink.h): once, before anything about the first frame, start; then
 * per frame: the packet, the state changes it caused, the events it caused,
 * then any connection records it finished.
 *
 * Lifecycle: tl_tracker_new -> tl_tracker_feed (per frame) or
 *            tl_tracker_feed_many (per batch, the same result) ->
 *            tl_tracker_finish (records for open conns + stats) -> tl_tracker_free.
 */
#ifndef TCPLENS_TRACKER_H
#define TCPLENS_TRACKER_H

#include "tcplens/packet.h"
#include "tcplens/source.h"
#include "tcplens/sink.h"

typedef struct tl_tracker tl_tracker;

typedef struct tl_tracker_config {
    uint32_t max_conns;        /* 0 = default (1,000,000) */
    double idle_timeout;       /* seconds without packets before eviction; 0 = default (3600 established, Zeek-like) */
    bool verify_checksums;     /* --checksums=verify: skip bad-checksum segments (Zeek default) */
    uint64_t hash_seed;        /* 0 = random per run */
} tl_tracker_config;

TL_MUST_USE int tl_tracker_new(tl_tracker **out, const tl_tracker_config *cfg,
                               const tl_sink *sink, char *errbuf);

/* One frame and its decode result (pkt is meaningful when res == TL_DECODE_OK,
 * and partially for the others). */
void tl_tracker_feed(tl_tracker *tr, const tl_frame *frame, tl_decode_result res,
                     tl_decode_reason reason, const tl_packet *pkt);

/* Frames fs[0..n) with their decodings, in order: the same as n calls of
 * tl_tracker_feed(), at less cost per frame. The connections of up to
 * TL_TRACKER_BATCH frames are looked up ahead at once, so their cache
 * misses overlap: a source's batch should be about that size. */
#define TL_TRACKER_BATCH 64
void tl_tracker_feed_many(tl_tracker *tr, const tl_frame *fs, const tl_decoded *ds, int n);

/* Time passes without packets (live capture): summarise connections idle
 * past the timeout or closed long enough, as a packet at `now` would. */
void tl_tracker_tick(tl_tracker *tr, tl_time now);

/* Report a source error (file/offset/packet) to the sink and count it. */
void tl_tracker_error(tl_tracker *tr, const char *file, int64_t offset, uint64_t packet,
                      const char *text);

/* End of input: write records of all connections still open, then stats.
 * src_stats may be NULL. */
void tl_tracker_finish(tl_tracker *tr, const tl_source_stats *src_stats);

void tl_tracker_free(tl_tracker *tr);

#endif
