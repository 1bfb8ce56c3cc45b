#include <ctype.h>
#include <string.h>

#include "item.h"

/* Copies the text up to the next ';' (or end of line) into dst, trimming
   surrounding blanks. Returns 0 on success, -1 if the field does not fit. */
static int copy_field(const char **cursor, char *dst, size_t capacity)
{
    const char *p = *cursor;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p;
    while (*p != '\0' && *p != ';' && *p != '\n')
        p++;
    const char *end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t length = (size_t)(end - start);
    if (length + 1 > capacity)
        return -1;
    memcpy(dst, start, length);
    dst[length] = '\0';
    *cursor = (*p == ';') ? p + 1 : p;
    return 0;
}

static int parse_non_negative_int(const char *text, int *out)
{
    long value = 0;
    if (*text == '\0')
        return -1;
    for (; *text != '\0'; text++) {
        if (!isdigit((unsigned char)*text))
            return -1;
        value = value * 10 + (*text - '0');
        if (value > 1000000)
            return -1;
    }
    *out = (int)value;
    return 0;
}

/* Converts "12.5" or "3.07" or "8" to cents (1250, 307, 800). */
static int parse_price_cents(const char *text, long *out)
{
    long units = 0;
    long fraction = 0;
    int fraction_digits = 0;
    const char *p = text;

    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p))
        units = units * 10 + (*p++ - '0');
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p) && fraction_digits < 2) {
            fraction = fraction * 10 + (*p++ - '0');
            fraction_digits++;
        }
    }
    if (*p != '\0')
        return -1;
    if (fraction_digits == 1)
        fraction *= 10;
    *out = units * 100 + fraction;
    return 0;
}

/* Parses "SKU; name; quantity; price" into out. Returns 0 on success. */
int parse_item_record(const char *line, struct item_record *out)
{
    char quantity_text[16];
    char price_text[16];
    const char *cursor = line;

    if (copy_field(&cursor, out->sku, sizeof out->sku) != 0 || out->sku[0] == '\0')
        return -1;
    if (copy_field(&cursor, out->name, sizeof out->name) != 0)
        return -1;
    if (copy_field(&cursor, quantity_text, sizeof quantity_text) != 0)
        return -1;
    if (copy_field(&cursor, price_text, sizeof price_text) != 0)
        return -1;
    if (parse_non_negative_int(quantity_text, &out->quantity) != 0)
        return -1;
    if (parse_price_cents(price_text, &out->price_cents) != 0)
        return -1;
    return 0;
}
