#ifndef ITEM_H
#define ITEM_H

#include <stddef.h>

#define SKU_CAPACITY 16
#define NAME_CAPACITY 32
#define INVENTORY_CAPACITY 64

struct item_record {
    char sku[SKU_CAPACITY];
    char name[NAME_CAPACITY];
    int quantity;
    long price_cents;
};

struct inventory {
    struct item_record items[INVENTORY_CAPACITY];
    size_t count;
};

/* parse.c */
int parse_item_record(const char *line, struct item_record *out);

/* inventory.c */
void inventory_init(struct inventory *inv);
int inventory_add(struct inventory *inv, const struct item_record *item);
const struct item_record *inventory_find_by_sku(const struct inventory *inv, const char *sku);
long inventory_total_value_cents(const struct inventory *inv);
size_t inventory_count_low_stock(const struct inventory *inv, int threshold);

/* report.c */
void format_cents(long cents, char *buffer, size_t capacity);
void print_inventory_report(const struct inventory *inv);
void print_low_stock_warnings(const struct inventory *inv, int threshold);

#endif
