#include <stdio.h>

#include "parsers.h"

static const char config_text[] =
    "# server settings\n"
    "listen_port = 8080\n"
    "root = /srv/www   # document root\n"
    "\n"
    "workers=4\n"
    "this line has no equals sign\n"
    "workers = 8\n";

static const char csv_text[] =
    "10, 20, 30\n"
    "-5, 7, 12\n"
    "4, x, 9\n"
    "100, 1, 2\n"
    "1, 2\n";

static const char access_log_text[] =
    "GET /index.html 200 5120\n"
    "GET /missing.png 404 312\n"
    "POST /api/login 302 0\n"
    "GET /api/data 500 87\n"
    "garbage\n"
    "GET /style.css 200 2048\n";

int main(void)
{
    struct settings_table settings;
    struct column_stats stats;
    struct access_summary summary;

    int malformed = load_settings(config_text, &settings);
    report_settings(&settings);
    const char *workers = find_setting(&settings, "workers");
    printf("  malformed=%d workers=%s\n", malformed, workers != NULL ? workers : "(unset)");

    int skipped = load_csv_statistics(csv_text, &stats);
    report_csv_statistics(&stats);
    printf("  skipped rows=%d\n", skipped);

    int rejected = load_access_log(access_log_text, &summary);
    report_access_log(&summary);
    printf("  rejected lines=%d\n", rejected);
    return 0;
}
