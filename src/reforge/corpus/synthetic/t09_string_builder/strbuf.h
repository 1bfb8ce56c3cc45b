#ifndef STRBUF_H
#define STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* A growable, always NUL-terminated byte string. */
struct strbuf {
    char *data;
    size_t length;
    size_t capacity;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
int strbuf_reserve(struct strbuf *sb, size_t extra);
int strbuf_append(struct strbuf *sb, const char *text, size_t length);
int strbuf_append_cstr(struct strbuf *sb, const char *text);
int strbuf_append_char(struct strbuf *sb, char c);
int strbuf_appendf(struct strbuf *sb, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_truncate(struct strbuf *sb, size_t length);

#endif
