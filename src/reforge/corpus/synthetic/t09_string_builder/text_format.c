#include <stdio.h>
#include <string.h>

#include "strbuf.h"

/* Length in bytes of the UTF-8 sequence that starts with lead, or 0 if lead is
   a continuation byte or invalid. */
static int get_utf8_len(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 0;
}

static size_t count_utf8_codepoints(const char *text)
{
    size_t count = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        int length = get_utf8_len(*p);
        p += length > 0 ? length : 1;
        count++;
    }
    return count;
}

/* Appends text as a JSON string literal, escaping quotes, backslashes and
   control characters. */
static void append_json_string(struct strbuf *sb, const char *text)
{
    strbuf_append_char(sb, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        switch (*p) {
        case '"': strbuf_append_cstr(sb, "\\\""); break;
        case '\\': strbuf_append_cstr(sb, "\\\\"); break;
        case '\n': strbuf_append_cstr(sb, "\\n"); break;
        case '\t': strbuf_append_cstr(sb, "\\t"); break;
        default:
            if (*p < 0x20)
                strbuf_appendf(sb, "\\u%04x", *p);
            else
                strbuf_append_char(sb, (char)*p);
        }
    }
    strbuf_append_char(sb, '"');
}

/* Formats a byte count with binary prefixes, e.g. 1536 -> "1.5 KiB". */
static void format_byte_size(unsigned long long bytes, char *buffer, size_t capacity)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t unit = 0;
    unsigned long long whole = bytes;
    unsigned long long remainder = 0;
    while (whole >= 1024 && unit + 1 < sizeof units / sizeof units[0]) {
        remainder = whole % 1024;
        whole /= 1024;
        unit++;
    }
    if (unit == 0)
        snprintf(buffer, capacity, "%llu %s", whole, units[unit]);
    else
        snprintf(buffer, capacity, "%llu.%llu %s", whole, remainder * 10 / 1024, units[unit]);
}

/* Copies text into a fixed-width cell, cutting it with "..." if it is too long. */
static void pad_or_ellipsize(char *cell, size_t width, const char *text)
{
    size_t length = strlen(text);
    if (length <= width) {
        memcpy(cell, text, length);
        memset(cell + length, ' ', width - length);
    } else {
        memcpy(cell, text, width - 3);
        memcpy(cell + width - 3, "...", 3);
    }
    cell[width] = '\0';
}

static void join_words(struct strbuf *sb, const char *const *words, size_t count,
                       const char *separator)
{
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            strbuf_append_cstr(sb, separator);
        strbuf_append_cstr(sb, words[i]);
    }
}

struct file_row {
    const char *name;
    unsigned long long size;
};

static void render_file_table(struct strbuf *sb, const struct file_row *rows, size_t count)
{
    char cell[17];
    char size_text[24];
    for (size_t i = 0; i < count; i++) {
        pad_or_ellipsize(cell, 16, rows[i].name);
        format_byte_size(rows[i].size, size_text, sizeof size_text);
        strbuf_appendf(sb, "| %s | %10s |\n", cell, size_text);
    }
}

int main(void)
{
    static const struct file_row rows[] = {
        {"README.md", 812},
        {"kernel-image-with-a-long-name.bin", 7340032},
        {"photo.jpg", 1536},
        {"backup.tar", 5368709120ULL},
    };
    static const char *const words[] = {"alpha", "beta", "gamma", "delta"};
    struct strbuf sb;

    strbuf_init(&sb);
    render_file_table(&sb, rows, sizeof rows / sizeof rows[0]);
    fputs(sb.data, stdout);

    strbuf_truncate(&sb, 0);
    join_words(&sb, words, sizeof words / sizeof words[0], ", ");
    printf("joined: %s (%zu bytes, capacity %zu)\n", sb.data, sb.length, sb.capacity);

    strbuf_truncate(&sb, 0);
    append_json_string(&sb, "say \"hi\"\tto\\them\n\x01");
    printf("json: %s\n", sb.data);

    const char *greeting = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac";
    printf("utf-8: %zu bytes, %zu code points\n", strlen(greeting),
           count_utf8_codepoints(greeting));
    strbuf_free(&sb);
    return 0;
}
