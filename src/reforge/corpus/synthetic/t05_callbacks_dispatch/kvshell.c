#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 32
#define MAX_ARGS 3
#define KEY_CAPACITY 16
#define VALUE_CAPACITY 48

struct kv_entry {
    char key[KEY_CAPACITY];
    char value[VALUE_CAPACITY];
};

struct kv_store {
    struct kv_entry entries[MAX_ENTRIES];
    size_t count;
};

typedef int (*command_handler)(struct kv_store *store, int argc, char **argv);
typedef void (*entry_visitor)(const struct kv_entry *entry, void *context);
typedef int (*entry_comparator)(const void *a, const void *b);

struct command {
    const char *name;
    int min_args;
    command_handler handler;
};

static struct kv_entry *kv_lookup(struct kv_store *store, const char *key)
{
    for (size_t i = 0; i < store->count; i++) {
        if (strcmp(store->entries[i].key, key) == 0)
            return &store->entries[i];
    }
    return NULL;
}

static void kv_for_each(const struct kv_store *store, entry_visitor visit, void *context)
{
    for (size_t i = 0; i < store->count; i++)
        visit(&store->entries[i], context);
}

static void print_entry(const struct kv_entry *entry, void *context)
{
    (void)context;
    printf("  %s = %s\n", entry->key, entry->value);
}

static void add_value_length(const struct kv_entry *entry, void *context)
{
    size_t *total = context;
    *total += strlen(entry->value);
}

static int compare_entries_by_key(const void *a, const void *b)
{
    return strcmp(((const struct kv_entry *)a)->key, ((const struct kv_entry *)b)->key);
}

static int compare_entries_by_value_length(const void *a, const void *b)
{
    size_t left = strlen(((const struct kv_entry *)a)->value);
    size_t right = strlen(((const struct kv_entry *)b)->value);
    if (left != right)
        return left < right ? -1 : 1;
    return compare_entries_by_key(a, b);
}

static int cmd_set(struct kv_store *store, int argc, char **argv)
{
    (void)argc;
    struct kv_entry *entry = kv_lookup(store, argv[1]);
    if (entry == NULL) {
        if (store->count == MAX_ENTRIES)
            return -1;
        entry = &store->entries[store->count++];
        snprintf(entry->key, sizeof entry->key, "%s", argv[1]);
    }
    snprintf(entry->value, sizeof entry->value, "%s", argv[2]);
    return 0;
}

static int cmd_get(struct kv_store *store, int argc, char **argv)
{
    (void)argc;
    const struct kv_entry *entry = kv_lookup(store, argv[1]);
    printf("%s: %s\n", argv[1], entry != NULL ? entry->value : "(missing)");
    return entry != NULL ? 0 : 1;
}

static int cmd_delete(struct kv_store *store, int argc, char **argv)
{
    (void)argc;
    struct kv_entry *entry = kv_lookup(store, argv[1]);
    if (entry == NULL)
        return 1;
    *entry = store->entries[--store->count];
    return 0;
}

static int cmd_list(struct kv_store *store, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("%zu entries:\n", store->count);
    kv_for_each(store, print_entry, NULL);
    return 0;
}

static int cmd_stats(struct kv_store *store, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    size_t total = 0;
    kv_for_each(store, add_value_length, &total);
    printf("%zu entries, %zu value bytes\n", store->count, total);
    return 0;
}

/* "sort key" or "sort length" reorders the store with the matching comparator. */
static int cmd_sort(struct kv_store *store, int argc, char **argv)
{
    static const struct {
        const char *order;
        entry_comparator compare;
    } orders[] = {
        {"key", compare_entries_by_key},
        {"length", compare_entries_by_value_length},
    };
    const char *order = argc > 1 ? argv[1] : "key";
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        if (strcmp(orders[i].order, order) == 0) {
            qsort(store->entries, store->count, sizeof store->entries[0], orders[i].compare);
            return 0;
        }
    }
    return -1;
}

/* Sorted by name for bsearch. */
static const struct command command_table[] = {
    {"del", 2, cmd_delete},
    {"get", 2, cmd_get},
    {"list", 1, cmd_list},
    {"set", 3, cmd_set},
    {"sort", 1, cmd_sort},
    {"stats", 1, cmd_stats},
};

static int compare_command_name(const void *key, const void *element)
{
    return strcmp(key, ((const struct command *)element)->name);
}

static const struct command *find_command(const char *name)
{
    return bsearch(name, command_table, sizeof command_table / sizeof command_table[0],
                   sizeof command_table[0], compare_command_name);
}

/* Splits line in place on blanks into at most max_args words. */
static int split_arguments(char *line, char **argv, int max_args)
{
    int argc = 0;
    char *cursor = line;
    while (argc < max_args) {
        while (*cursor == ' ' || *cursor == '\t' || *cursor == '\n')
            cursor++;
        if (*cursor == '\0')
            break;
        argv[argc++] = cursor;
        while (*cursor != '\0' && *cursor != ' ' && *cursor != '\t' && *cursor != '\n')
            cursor++;
        if (*cursor != '\0')
            *cursor++ = '\0';
    }
    return argc;
}

static int execute_line(struct kv_store *store, char *line)
{
    char *argv[MAX_ARGS];
    int argc = split_arguments(line, argv, MAX_ARGS);
    if (argc == 0)
        return 0;
    const struct command *command = find_command(argv[0]);
    if (command == NULL || argc < command->min_args) {
        printf("bad command: %s\n", argv[0]);
        return -1;
    }
    return command->handler(store, argc, argv);
}

int main(void)
{
    static struct kv_store store;
    char line[128];
    int failures = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (execute_line(&store, line) != 0)
            failures++;
    }
    printf("%d commands failed or missed\n", failures);
    return 0;
}
