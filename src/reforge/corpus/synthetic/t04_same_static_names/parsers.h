#ifndef PARSERS_H
#define PARSERS_H

#include <stddef.h>

#define MAX_SETTINGS 16
#define MAX_COLUMNS 8
#define MAX_REQUESTS 16

struct setting {
    char key[24];
    char value[40];
};

struct settings_table {
    struct setting items[MAX_SETTINGS];
    int count;
};

struct column_stats {
    int columns;
    int rows;
    long sums[MAX_COLUMNS];
    long minimums[MAX_COLUMNS];
    long maximums[MAX_COLUMNS];
};

struct access_summary {
    int requests;
    int errors;
    long bytes_sent;
    int status_counts[6]; /* index = status / 100 */
};

/* config_file.c */
int load_settings(const char *text, struct settings_table *table);
const char *find_setting(const struct settings_table *table, const char *key);
void report_settings(const struct settings_table *table);

/* csv_table.c */
int load_csv_statistics(const char *text, struct column_stats *stats);
void report_csv_statistics(const struct column_stats *stats);

/* access_log.c */
int load_access_log(const char *text, struct access_summary *summary);
void report_access_log(const struct access_summary *summary);

#endif
