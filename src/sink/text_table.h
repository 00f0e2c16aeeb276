/* text_table.h -- the text sink's connection table and capture statistics.
 *
 * Rows of finished connections are kept in an anonymous temporary file
 * (tmpfile()) until the end of the input, so memory does not grow with the
 * number of connections; when no temporary file can be made, each row is
 * printed as soon as its connection ends. Internal.
 */
#ifndef TL_TEXT_TABLE_H
#define TL_TEXT_TABLE_H

#include <stdio.h>

#include "tcplens/sink.h"

/* A name of a row's column with its length, padded so that it is copied
 * with a few fixed-size moves (no strlen, no memcpy call per name). */
typedef struct tl__row_name {
    char s[32];
    uint8_t n;
} tl__row_name;

#define TL__ROW_OPENS (TL_OPEN_MIDSTREAM + 2)        /* + one for any other value */
#define TL__ROW_CLOSES (TL_CLOSE_HALF_CLOSED + 2)
#define TL__ROW_STATES (TL_ST_COUNT + 1)

typedef struct tl_text_table {
    FILE *tmp;            /* rows kept for the end, NULL until the first */
    bool no_tmp;          /* tmpfile() failed: rows go straight out */
    bool header_done;     /* header printed on the output stream */
    uint64_t rows;
    /* the names the rows print, from tl_open_kind_name() etc. at init:
     * "-" for TL_OPEN_NONE; close kinds with " by client" / " by server"
     * (second index: closed_by none, client, server) */
    tl__row_name open[TL__ROW_OPENS];
    tl__row_name close[TL__ROW_CLOSES][3];
    tl__row_name state[TL__ROW_STATES];
} tl_text_table;

void tl_text_table_init(tl_text_table *t);
/* Keep a row for tl_text_table_dump (or print it to fp if it cannot be kept). */
void tl_text_table_add(tl_text_table *t, FILE *fp, const tl_conn_record *r);
/* Print a row now (header before the first one). */
void tl_text_table_print_row(tl_text_table *t, FILE *fp, const tl_conn_record *r);
/* Room tl_text_table_row() needs. */
#define TL_TEXT_ROW_CAP (2 * TL_LINE_CAP + 2 * TL_JSON_DOUBLE_MAX)
/* Writes a row (no header) at b; returns its length. For a sink that
 * batches its output and has printed the header with the first row. */
size_t tl_text_table_row(tl_text_table *t, char *b, const tl_conn_record *r);
/* Print the header and every kept row. */
void tl_text_table_dump(tl_text_table *t, FILE *fp);
void tl_text_table_release(tl_text_table *t);

/* "12 packets, 12 TCP, 0 other, ..." like tcpdump's closing summary. */
void tl_text_stats(FILE *fp, const tl_stats *st);

#endif
