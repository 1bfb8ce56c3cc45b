#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#define STRMAP_IMPLEMENTATION
#include "strmap.h"

#define MAX_WORD_LENGTH 31
#define TOP_WORD_COUNT 5

static const char sample_text[] =
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
    "incredulity, it was the season of Light, it was the season of Darkness.";

struct entry_list {
    const struct strmap_entry **entries;
    size_t count;
};

/* Splits text into lowercase words of letters and counts each one in map. */
static size_t count_words(struct strmap *map, const char *text)
{
    char word[MAX_WORD_LENGTH + 1];
    size_t length = 0;
    size_t total = 0;

    for (const char *p = text;; p++) {
        if (isalpha((unsigned char)*p)) {
            if (length < MAX_WORD_LENGTH)
                word[length++] = (char)tolower((unsigned char)*p);
            continue;
        }
        if (length > 0) {
            word[length] = '\0';
            strmap_increment(map, word, 1);
            total++;
            length = 0;
        }
        if (*p == '\0')
            break;
    }
    return total;
}

static void append_entry(const struct strmap_entry *entry, void *context)
{
    struct entry_list *list = context;
    list->entries[list->count++] = entry;
}

/* Orders by descending count, then alphabetically so the output is stable. */
static int compare_by_count_descending(const void *a, const void *b)
{
    const struct strmap_entry *left = *(const struct strmap_entry *const *)a;
    const struct strmap_entry *right = *(const struct strmap_entry *const *)b;
    if (left->value != right->value)
        return left->value < right->value ? 1 : -1;
    return strcmp(left->key, right->key);
}

static void print_top_words(const struct strmap *map, size_t limit)
{
    struct entry_list list = {calloc(map->count, sizeof(*list.entries)), 0};
    if (list.entries == NULL)
        return;
    strmap_for_each(map, append_entry, &list);
    qsort(list.entries, list.count, sizeof(*list.entries), compare_by_count_descending);
    for (size_t i = 0; i < list.count && i < limit; i++)
        printf("%2zu. %-12s %ld\n", i + 1, list.entries[i]->key, list.entries[i]->value);
    free(list.entries);
}

int main(void)
{
    struct strmap map;
    if (strmap_init(&map, 4) != 0)
        return 1;

    size_t total = count_words(&map, sample_text);
    printf("%zu words, %zu distinct\n", total, map.count);
    print_top_words(&map, TOP_WORD_COUNT);

    strmap_remove(&map, "it");
    strmap_remove(&map, "was");
    long *times = strmap_get(&map, "times");
    printf("after removing two words: %zu distinct, times=%ld, it=%s\n", map.count,
           times != NULL ? *times : -1L, strmap_get(&map, "it") != NULL ? "present" : "absent");
    print_top_words(&map, 3);
    strmap_destroy(&map);
    return 0;
}
