#include <stdio.h>
#include <string.h>

#include "parsers.h"

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Copies [start, end) into dst without trailing blanks. */
static void copy_trimmed(char *dst, size_t capacity, const char *start, const char *end)
{
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t length = (size_t)(end - start);
    if (length >= capacity)
        length = capacity - 1;
    memcpy(dst, start, length);
    dst[length] = '\0';
}

/* Parses one "key = value" line; '#' starts a comment.
   Returns 1 for a setting, 0 for a blank or comment line, -1 for a malformed line. */
static int parse_line(const char *line, const char *line_end, struct setting *out)
{
    const char *p = skip_blanks(line);
    if (p == line_end || *p == '#')
        return 0;
    const char *equals = memchr(p, '=', (size_t)(line_end - p));
    if (equals == NULL || equals == p)
        return -1;
    copy_trimmed(out->key, sizeof out->key, p, equals);
    const char *value = skip_blanks(equals + 1);
    const char *comment = memchr(value, '#', (size_t)(line_end - value));
    copy_trimmed(out->value, sizeof out->value, value, comment != NULL ? comment : line_end);
    return 1;
}

int load_settings(const char *text, struct settings_table *table)
{
    int malformed = 0;
    table->count = 0;
    while (*text != '\0') {
        const char *line_end = strchr(text, '\n');
        if (line_end == NULL)
            line_end = text + strlen(text);
        struct setting parsed;
        int result = parse_line(text, line_end, &parsed);
        if (result < 0)
            malformed++;
        else if (result > 0 && table->count < MAX_SETTINGS)
            table->items[table->count++] = parsed;
        text = (*line_end == '\n') ? line_end + 1 : line_end;
    }
    return malformed;
}

const char *find_setting(const struct settings_table *table, const char *key)
{
    for (int i = table->count - 1; i >= 0; i--) {
        if (strcmp(table->items[i].key, key) == 0)
            return table->items[i].value;
    }
    return NULL;
}

static void print_summary(const struct settings_table *table)
{
    printf("settings: %d entries\n", table->count);
    for (int i = 0; i < table->count; i++)
        printf("  %s -> [%s]\n", table->items[i].key, table->items[i].value);
}

void report_settings(const struct settings_table *table)
{
    print_summary(table);
}
