#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void strbuf_init(struct strbuf *sb)
{
    sb->data = NULL;
    sb->length = 0;
    sb->capacity = 0;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    strbuf_init(sb);
}

/* Ensures room for extra more bytes plus the terminating NUL, growing by doubling. */
int strbuf_reserve(struct strbuf *sb, size_t extra)
{
    size_t needed = sb->length + extra + 1;
    if (needed <= sb->capacity)
        return 0;
    size_t new_capacity = sb->capacity != 0 ? sb->capacity : 16;
    while (new_capacity < needed)
        new_capacity *= 2;
    char *grown = realloc(sb->data, new_capacity);
    if (grown == NULL)
        return -1;
    sb->data = grown;
    sb->capacity = new_capacity;
    return 0;
}

int strbuf_append(struct strbuf *sb, const char *text, size_t length)
{
    if (strbuf_reserve(sb, length) != 0)
        return -1;
    memcpy(sb->data + sb->length, text, length);
    sb->length += length;
    sb->data[sb->length] = '\0';
    return 0;
}

int strbuf_append_cstr(struct strbuf *sb, const char *text)
{
    return strbuf_append(sb, text, strlen(text));
}

int strbuf_append_char(struct strbuf *sb, char c)
{
    return strbuf_append(sb, &c, 1);
}

/* printf-style append: measures with vsnprintf first, then formats in place. */
int strbuf_appendf(struct strbuf *sb, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed < 0 || strbuf_reserve(sb, (size_t)needed) != 0)
        return -1;
    va_start(args, format);
    vsnprintf(sb->data + sb->length, (size_t)needed + 1, format, args);
    va_end(args);
    sb->length += (size_t)needed;
    return 0;
}

void strbuf_truncate(struct strbuf *sb, size_t length)
{
    if (length < sb->length) {
        sb->length = length;
        sb->data[length] = '\0';
    }
}
