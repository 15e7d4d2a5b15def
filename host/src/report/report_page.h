/* report_page.h — the fixed parts of the report's HTML pages (report.html
 * and the comparison page): the head with uPlot's CSS and JS inlined
 * (web_assets.h), so a page opens offline, and the script that draws the
 * charts from the page's embedded JSON data (element id "qts-data").
 * Internal to the report subsystem.
 *
 * The data object the script reads (every time in seconds, UTC):
 *   eq, dd:  {"x":[...],"y":[...]}            equity, drawdown in %
 *   strat:   {"names":[...],"x":[...],"y":[[...],...]}  PnL per strategy
 *   inst:    [{"sym":..., "px":{"x","y"}, "fills":F}]   price and fills,
 *            F = {"mode":"points","x","y","side":[1|-1],"q","s":[name index]}
 *             or {"mode":"buckets","n":N,"x","buy","sell","bpx","spx"}
 *   cmp:     {"names":[A,B],"x":[...],"y":[[...],[...]]} (comparison page)
 */
#ifndef QTS_REPORT_PAGE_H
#define QTS_REPORT_PAGE_H

#include <stdio.h>

/* <!DOCTYPE html> ... </head><body> with the title (escaped). */
void qts_report_page_head(FILE *f, const char *title);
/* The chart script; place it after the data element and the chart divs. */
void qts_report_page_script(FILE *f);
/* `s` (borrowed) as a JSON string safe inside <script>: '<' escaped too. */
void qts_report_js_str(FILE *f, const char *s);

#endif
