/* test_sink_file.h -- for the sink tests: what a FILE on a descriptor
 * received (include after <cmocka.h>). */
#ifndef TEST_SINK_FILE_H
#define TEST_SINK_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* Everything a FILE on a descriptor received, read back from the start. */
static inline char *file_text(FILE *fp)
{
    fflush(fp);
    long n = ftell(fp);
    assert_true(n >= 0);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    rewind(fp);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = 0;
    return b;
}

#endif
