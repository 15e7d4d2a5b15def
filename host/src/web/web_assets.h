/* web_assets.h — browser libraries built into the host.
 *
 * uPlot (MIT, web/package.json pins the version) draws the report's and the
 * dashboard's charts. The arrays are static data owned by the binary:
 * NUL-terminated, so `fputs(qts_web_uplot_js, f)` writes the whole file.
 * Inline them in a <script>/<style> element, or serve them as
 * application/javascript and text/css.
 */
#ifndef QTS_WEB_ASSETS_H
#define QTS_WEB_ASSETS_H

#include <stddef.h>

extern const char qts_web_uplot_js[]; /* uPlot.iife.min.js: defines uPlot */
extern const size_t qts_web_uplot_js_len;
extern const char qts_web_uplot_css[]; /* uPlot.min.css */
extern const size_t qts_web_uplot_css_len;

/* The version pinned in web/package.json, for the pages' footers. */
#define QTS_WEB_UPLOT_VERSION "1.6.32"

#endif
