#include <stdio.h>

#include "item.h"

/* Writes cents as a decimal amount with two fraction digits, e.g. 1205 -> "12.05". */
void format_cents(long cents, char *buffer, size_t capacity)
{
    const char *sign = "";
    if (cents < 0) {
        sign = "-";
        cents = -cents;
    }
    snprintf(buffer, capacity, "%s%ld.%02ld", sign, cents / 100, cents % 100);
}

void print_inventory_report(const struct inventory *inv)
{
    char unit_price[32];
    char line_total[32];
    char grand_total[32];

    printf("%-8s %-20s %5s %10s %12s\n", "SKU", "NAME", "QTY", "PRICE", "VALUE");
    for (size_t i = 0; i < inv->count; i++) {
        const struct item_record *item = &inv->items[i];
        format_cents(item->price_cents, unit_price, sizeof unit_price);
        format_cents(item->price_cents * item->quantity, line_total, sizeof line_total);
        printf("%-8s %-20s %5d %10s %12s\n", item->sku, item->name, item->quantity, unit_price,
               line_total);
    }
    format_cents(inventory_total_value_cents(inv), grand_total, sizeof grand_total);
    printf("%zu items, total value %s\n", inv->count, grand_total);
}

void print_low_stock_warnings(const struct inventory *inv, int threshold)
{
    size_t low = inventory_count_low_stock(inv, threshold);
    printf("%zu items below %d units\n", low, threshold);
    for (size_t i = 0; i < inv->count; i++) {
        if (inv->items[i].quantity < threshold)
            printf("  reorder %s (%s): %d left\n", inv->items[i].sku, inv->items[i].name,
                   inv->items[i].quantity);
    }
}
