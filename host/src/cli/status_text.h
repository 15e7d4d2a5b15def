/* status_text.h — the human summary `qts status` prints by default. */
#ifndef QTS_STATUS_TEXT_H
#define QTS_STATUS_TEXT_H

#include <stdio.h>

/* `result` (borrowed): the status object of the admin answer
 * ({"mode":...,"safety":{...},"positions":[...],...}). Members it lacks
 * print as "-" or are left out. */
void qts__status_print(FILE *f, const char *result);

#endif
