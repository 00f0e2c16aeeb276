/* fuzz_pipeline.c -- libFuzzer target: pcap/pcapng bytes through the whole
 * pipeline (mem source, decode, tracker, JSON and text sinks to /dev/null). */
#include <stdio.h>

#include "tcplens/source.h"
#include "tcplens/tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    char errbuf[TL_ERRBUF_SIZE];
    tl_source *src;
    if (tl_source_open_mem(&src, data, size, errbuf) < 0) return 0;
    tl_output_opts oo = {.ts_digits = tl_source_ts_digits(src), .hex = true};
    tl_sink sinks[2], tee;
    if (tl_sink_json_new(&sinks[0], devnull, &oo) < 0) goto out_src;
    if (tl_sink_text_new(&sinks[1], devnull, &oo) < 0) {
        tl_sink_free(&sinks[0]);
        goto out_src;
    }
    if (tl_sink_tee_new(&tee, sinks, 2) < 0) {
        tl_sink_free(&sinks[0]);
        tl_sink_free(&sinks[1]);
        goto out_src;
    }
    tl_tracker_config cfg = {.max_conns = 8, .hash_seed = 1, .verify_checksums = size & 1};
    tl_tracker *tr;
    if (tl_tracker_new(&tr, &cfg, &tee, errbuf) == 0) {
        tl_frame f;
        tl_packet pkt;
        int rc, budget = 100000;
        while ((rc = tl_source_next(src, &f, errbuf)) != 0 && budget-- > 0) {
            if (rc < 0) continue;
            tl_decode_reason reason;
            tl_decode_result r = tl_decode(f.linktype, f.data, f.caplen, cfg.verify_checksums, &pkt, &reason);
            tl_tracker_feed(tr, &f, r, reason, &pkt);
        }
        tl_tracker_finish(tr, NULL);
        tl_tracker_free(tr);
    }
    tl_sink_free(&tee);
out_src:
    tl_source_free(src);
    return 0;
}
