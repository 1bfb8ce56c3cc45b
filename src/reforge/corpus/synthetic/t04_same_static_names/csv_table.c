#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "parsers.h"

/* Parses one line of comma-separated integers into values.
   Returns the number of columns, or -1 if a field is not an integer. */
static int parse_line(const char *line, long *values, int max_values, const char **next_line)
{
    int columns = 0;
    const char *p = line;
    for (;;) {
        char *end;
        while (*p == ' ')
            p++;
        if (!isdigit((unsigned char)*p) && *p != '-')
            return -1;
        long value = strtol(p, &end, 10);
        if (columns < max_values)
            values[columns] = value;
        columns++;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\n')
            p++;
        else if (*p != '\0')
            return -1;
        break;
    }
    *next_line = p;
    return columns;
}

static void reset_column_stats(struct column_stats *stats)
{
    stats->columns = 0;
    stats->rows = 0;
    for (int c = 0; c < MAX_COLUMNS; c++) {
        stats->sums[c] = 0;
        stats->minimums[c] = LONG_MAX;
        stats->maximums[c] = LONG_MIN;
    }
}

/* Accumulates per-column sum, minimum and maximum. The first row fixes the column
   count; rows with another count are skipped. Returns the number of skipped rows. */
int load_csv_statistics(const char *text, struct column_stats *stats)
{
    long values[MAX_COLUMNS];
    int skipped = 0;
    reset_column_stats(stats);
    while (*text != '\0') {
        const char *next = text;
        int columns = parse_line(text, values, MAX_COLUMNS, &next);
        if (columns < 0) {
            skipped++;
            while (*text != '\0' && *text != '\n')
                text++;
            if (*text == '\n')
                text++;
            continue;
        }
        text = next;
        if (stats->rows == 0)
            stats->columns = columns < MAX_COLUMNS ? columns : MAX_COLUMNS;
        if (columns != stats->columns) {
            skipped++;
            continue;
        }
        for (int c = 0; c < columns; c++) {
            stats->sums[c] += values[c];
            if (values[c] < stats->minimums[c])
                stats->minimums[c] = values[c];
            if (values[c] > stats->maximums[c])
                stats->maximums[c] = values[c];
        }
        stats->rows++;
    }
    return skipped;
}

static void print_summary(const struct column_stats *stats)
{
    printf("csv: %d rows x %d columns\n", stats->rows, stats->columns);
    for (int c = 0; c < stats->columns; c++)
        printf("  column %d: sum=%ld min=%ld max=%ld\n", c, stats->sums[c], stats->minimums[c],
               stats->maximums[c]);
}

void report_csv_statistics(const struct column_stats *stats)
{
    print_summary(stats);
}
