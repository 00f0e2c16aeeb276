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

typedef struct tl_text_table {
    FILE *tmp;            /* rows kept for the end, NULL until the first */
    bool no_tmp;          /* tmpfile() failed: rows go straight out */
    bool header_done;     /* header printed on the output stream */
    uint64_t rows;
} tl_text_table;

void tl_text_table_init(tl_text_table *t);
/* Keep a row for tl_text_table_dump (or print it to fp if it cannot be kept). */
void tl_text_table_add(tl_text_table *t, FILE *fp, const tl_conn_record *r);
/* Print a row now (header before the first one). */
void tl_text_table_print_row(tl_text_table *t, FILE *fp, const tl_conn_record *r);
/* Print the header and every kept row. */
void tl_text_table_dump(tl_text_table *t, FILE *fp);
void tl_text_table_release(tl_text_table *t);

/* "12 packets, 12 TCP, 0 other, ..." like tcpdump's closing summary. */
void tl_text_stats(FILE *fp, const tl_stats *st);

#endif
