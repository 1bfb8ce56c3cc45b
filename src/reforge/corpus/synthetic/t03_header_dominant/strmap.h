/* strmap.h: a single-header hash map from strings to counters, using open
   addressing with linear probing. Define STRMAP_IMPLEMENTATION in exactly one
   .c file before including it to get the function definitions. */
#ifndef STRMAP_H
#define STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_entry {
    char *key;
    long value;
};

struct strmap {
    struct strmap_entry *slots;
    size_t capacity;
    size_t count;
};

typedef void (*strmap_visit_fn)(const struct strmap_entry *entry, void *context);

int strmap_init(struct strmap *map, size_t initial_capacity);
void strmap_destroy(struct strmap *map);
long *strmap_get(const struct strmap *map, const char *key);
int strmap_increment(struct strmap *map, const char *key, long amount);
int strmap_remove(struct strmap *map, const char *key);
void strmap_for_each(const struct strmap *map, strmap_visit_fn visit, void *context);

#endif

#ifdef STRMAP_IMPLEMENTATION

#include <stdlib.h>
#include <string.h>

#define STRMAP_MAX_LOAD_PERCENT 70

static uint32_t strmap_hash_fnv1a(const char *key)
{
    uint32_t hash = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        hash ^= *p;
        hash *= 16777619u;
    }
    return hash;
}

static char *strmap_duplicate_key(const char *key)
{
    size_t length = strlen(key) + 1;
    char *copy = malloc(length);
    if (copy != NULL)
        memcpy(copy, key, length);
    return copy;
}

/* Returns the slot holding key, or the empty slot where it would be inserted.
   The table always has at least one empty slot, so the probe terminates. */
static size_t strmap_find_slot(const struct strmap_entry *slots, size_t capacity, const char *key)
{
    size_t mask = capacity - 1;
    size_t index = strmap_hash_fnv1a(key) & mask;
    while (slots[index].key != NULL && strcmp(slots[index].key, key) != 0)
        index = (index + 1) & mask;
    return index;
}

static size_t round_up_to_power_of_two(size_t n)
{
    size_t power = 8;
    while (power < n)
        power <<= 1;
    return power;
}

int strmap_init(struct strmap *map, size_t initial_capacity)
{
    map->capacity = round_up_to_power_of_two(initial_capacity);
    map->count = 0;
    map->slots = calloc(map->capacity, sizeof *map->slots);
    return map->slots != NULL ? 0 : -1;
}

void strmap_destroy(struct strmap *map)
{
    for (size_t i = 0; i < map->capacity; i++)
        free(map->slots[i].key);
    free(map->slots);
    map->slots = NULL;
    map->capacity = 0;
    map->count = 0;
}

/* Doubles the table and re-inserts every entry. Keys are moved, not copied. */
static int strmap_grow(struct strmap *map)
{
    size_t new_capacity = map->capacity * 2;
    struct strmap_entry *new_slots = calloc(new_capacity, sizeof *new_slots);
    if (new_slots == NULL)
        return -1;
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->slots[i].key == NULL)
            continue;
        size_t index = strmap_find_slot(new_slots, new_capacity, map->slots[i].key);
        new_slots[index] = map->slots[i];
    }
    free(map->slots);
    map->slots = new_slots;
    map->capacity = new_capacity;
    return 0;
}

long *strmap_get(const struct strmap *map, const char *key)
{
    size_t index = strmap_find_slot(map->slots, map->capacity, key);
    return map->slots[index].key != NULL ? &map->slots[index].value : NULL;
}

/* Adds amount to the counter of key, inserting it with value 0 first if absent. */
int strmap_increment(struct strmap *map, const char *key, long amount)
{
    if ((map->count + 1) * 100 > map->capacity * STRMAP_MAX_LOAD_PERCENT) {
        if (strmap_grow(map) != 0)
            return -1;
    }
    size_t index = strmap_find_slot(map->slots, map->capacity, key);
    if (map->slots[index].key == NULL) {
        map->slots[index].key = strmap_duplicate_key(key);
        if (map->slots[index].key == NULL)
            return -1;
        map->slots[index].value = 0;
        map->count++;
    }
    map->slots[index].value += amount;
    return 0;
}

/* Deletes key and re-inserts the rest of its probe cluster so that later
   lookups do not stop at the hole. Returns 0 if removed, -1 if absent. */
int strmap_remove(struct strmap *map, const char *key)
{
    size_t mask = map->capacity - 1;
    size_t index = strmap_find_slot(map->slots, map->capacity, key);
    if (map->slots[index].key == NULL)
        return -1;
    free(map->slots[index].key);
    map->slots[index].key = NULL;
    map->count--;

    for (size_t next = (index + 1) & mask; map->slots[next].key != NULL; next = (next + 1) & mask) {
        struct strmap_entry moved = map->slots[next];
        map->slots[next].key = NULL;
        size_t target = strmap_find_slot(map->slots, map->capacity, moved.key);
        map->slots[target] = moved;
    }
    return 0;
}

void strmap_for_each(const struct strmap *map, strmap_visit_fn visit, void *context)
{
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->slots[i].key != NULL)
            visit(&map->slots[i], context);
    }
}

#endif
