#include <string.h>

#include "item.h"

void inventory_init(struct inventory *inv)
{
    memset(inv, 0, sizeof *inv);
}

static struct item_record *find_mutable_item(struct inventory *inv, const char *sku)
{
    for (size_t i = 0; i < inv->count; i++) {
        if (strcmp(inv->items[i].sku, sku) == 0)
            return &inv->items[i];
    }
    return NULL;
}

/* Adds an item or merges its quantity into an existing item with the same SKU.
   Returns 1 if merged, 0 if appended, -1 if the inventory is full. */
int inventory_add(struct inventory *inv, const struct item_record *item)
{
    struct item_record *existing = find_mutable_item(inv, item->sku);
    if (existing != NULL) {
        existing->quantity += item->quantity;
        existing->price_cents = item->price_cents;
        return 1;
    }
    if (inv->count == INVENTORY_CAPACITY)
        return -1;
    inv->items[inv->count++] = *item;
    return 0;
}

const struct item_record *inventory_find_by_sku(const struct inventory *inv, const char *sku)
{
    for (size_t i = 0; i < inv->count; i++) {
        if (strcmp(inv->items[i].sku, sku) == 0)
            return &inv->items[i];
    }
    return NULL;
}

long inventory_total_value_cents(const struct inventory *inv)
{
    long total = 0;
    for (size_t i = 0; i < inv->count; i++)
        total += inv->items[i].price_cents * inv->items[i].quantity;
    return total;
}

size_t inventory_count_low_stock(const struct inventory *inv, int threshold)
{
    size_t low = 0;
    for (size_t i = 0; i < inv->count; i++) {
        if (inv->items[i].quantity < threshold)
            low++;
    }
    return low;
}
