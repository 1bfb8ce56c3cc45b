#include <stdio.h>
#include <string.h>

#include "parsers.h"

struct request_line {
    char method[8];
    char path[64];
    int status;
    long bytes;
};

/* Parses "METHOD /path STATUS BYTES" (one web server access log line).
   Returns 0 on success, -1 if a field is missing or out of range. */
static int parse_line(const char *line, struct request_line *out)
{
    int consumed = 0;
    if (sscanf(line, "%7s %63s %d %ld%n", out->method, out->path, &out->status, &out->bytes,
               &consumed) != 4)
        return -1;
    if (out->status < 100 || out->status > 599 || out->bytes < 0)
        return -1;
    return consumed;
}

static void record_request(struct access_summary *summary, const struct request_line *request)
{
    summary->requests++;
    summary->bytes_sent += request->bytes;
    summary->status_counts[request->status / 100]++;
    if (request->status >= 400)
        summary->errors++;
}

int load_access_log(const char *text, struct access_summary *summary)
{
    char line[128];
    int rejected = 0;
    memset(summary, 0, sizeof *summary);
    while (*text != '\0') {
        size_t length = strcspn(text, "\n");
        size_t copied = length < sizeof line - 1 ? length : sizeof line - 1;
        memcpy(line, text, copied);
        line[copied] = '\0';
        text += length;
        if (*text == '\n')
            text++;

        struct request_line request;
        if (parse_line(line, &request) < 0)
            rejected++;
        else
            record_request(summary, &request);
    }
    return rejected;
}

void report_access_log(const struct access_summary *summary)
{
    printf("access log: %d requests, %d errors, %ld bytes\n", summary->requests, summary->errors,
           summary->bytes_sent);
    for (int klass = 1; klass <= 5; klass++) {
        if (summary->status_counts[klass] > 0)
            printf("  %dxx: %d\n", klass, summary->status_counts[klass]);
    }
}
