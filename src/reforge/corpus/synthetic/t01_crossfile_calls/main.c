#include <stdio.h>
#include <string.h>

#include "item.h"

#define LOW_STOCK_THRESHOLD 5

static void strip_newline(char *line)
{
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
        line[--length] = '\0';
}

/* Reads "SKU; name; quantity; price" lines from stream, skipping blank lines and
   '#' comments. Returns the number of rejected lines. */
static int load_inventory(FILE *stream, struct inventory *inv)
{
    char line[256];
    int rejected = 0;
    int line_number = 0;

    while (fgets(line, sizeof line, stream) != NULL) {
        struct item_record item;
        line_number++;
        strip_newline(line);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (parse_item_record(line, &item) != 0 || inventory_add(inv, &item) < 0) {
            fprintf(stderr, "line %d rejected: %s\n", line_number, line);
            rejected++;
        }
    }
    return rejected;
}

static void print_lookup(const struct inventory *inv, const char *sku)
{
    char price[32];
    const struct item_record *item = inventory_find_by_sku(inv, sku);
    if (item == NULL) {
        printf("lookup %s: not stocked\n", sku);
        return;
    }
    format_cents(item->price_cents, price, sizeof price);
    printf("lookup %s: %s, %d at %s\n", sku, item->name, item->quantity, price);
}

int main(void)
{
    struct inventory inv;
    inventory_init(&inv);

    int rejected = load_inventory(stdin, &inv);
    print_inventory_report(&inv);
    print_low_stock_warnings(&inv, LOW_STOCK_THRESHOLD);
    print_lookup(&inv, "B-204");
    print_lookup(&inv, "Z-999");
    printf("%d lines rejected\n", rejected);
    return 0;
}
