/* sink_html.h -- what the lab needs of the HTML sink beyond sink.h: a
 * heading between the scenarios it feeds into one page. */
#ifndef TL_SINK_HTML_H
#define TL_SINK_HTML_H

#include "tcplens/sink.h"

/* Writes a heading (title, and text when not NULL) into the page made by
 * tl_sink_html_new; times shown after it restart at its next packet. Does
 * nothing when s is not an HTML sink. */
void tl__sink_html_heading(tl_sink *s, const char *title, const char *text);

#endif
