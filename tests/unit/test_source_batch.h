/* test_source_batch.h -- shared by the source tests (include after
 * cmocka.h): tl_source_next_batch against tl_source_next. */
#ifndef TL_TEST_SOURCE_BATCH_H
#define TL_TEST_SOURCE_BATCH_H

#include "tcplens/source.h"

/* Reads two sources over the same input, `many` in batches of 1 to 70 and
 * `one` frame by frame: the same frames, numbers, errors and places,
 * whatever max is. Returns the frames read; *most is the largest batch. */
static inline unsigned batches_match_single_calls(tl_source *one, tl_source *many, int *most)
{
    char e1[TL_ERRBUF_SIZE], e2[TL_ERRBUF_SIZE];
    tl_frame fs[70];
    unsigned n = 0;
    *most = 0;
    for (int call = 0;; call++) {
        int got = tl_source_next_batch(many, fs, 1 + call % 70, e2);
        if (got > *most) *most = got;
        for (int i = 0; i < (got > 0 ? got : 1); i++) {
            tl_frame f;
            int rc = tl_source_next(one, &f, e1);
            assert_int_equal(rc, got > 0 ? 1 : got);
            if (got <= 0)
                break;
            n++;
            assert_int_equal(fs[i].caplen, f.caplen);
            assert_int_equal(fs[i].len, f.len);
            assert_memory_equal(fs[i].data, f.data, f.caplen);
            assert_int_equal(fs[i].ts.sec, f.ts.sec);
            assert_int_equal(fs[i].ts.nsec, f.ts.nsec);
            assert_int_equal(fs[i].linktype, f.linktype);
            assert_int_equal(fs[i].offset, f.offset);
            assert_int_equal(fs[i].n, f.n);
            assert_string_equal(fs[i].file, f.file);
        }
        if (got < 0)
            assert_string_equal(e2, e1);
        if (got == 0)
            break;
    }
    return n;
}

#endif
