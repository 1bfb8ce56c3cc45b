/* This program deliberately leaks function names into the stripped binary:
   glibc's assert() stores the enclosing function's name (__PRETTY_FUNCTION__)
   in its failure message, and report_invalid_priority prints __func__. Name
   recovery benchmarks use it to check their leak audit. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#define QUEUE_CAPACITY 32
#define MAX_PRIORITY 9

struct task {
    char label[24];
    int priority;
    unsigned sequence;
};

/* Binary min-heap ordered by priority, then by insertion sequence. */
struct task_queue {
    struct task heap[QUEUE_CAPACITY];
    size_t size;
    unsigned next_sequence;
};

static int task_precedes(const struct task *a, const struct task *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority;
    return a->sequence < b->sequence;
}

static void swap_tasks(struct task *a, struct task *b)
{
    struct task saved = *a;
    *a = *b;
    *b = saved;
}

static void sift_up(struct task_queue *queue, size_t index)
{
    assert(index < queue->size);
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!task_precedes(&queue->heap[index], &queue->heap[parent]))
            break;
        swap_tasks(&queue->heap[index], &queue->heap[parent]);
        index = parent;
    }
}

static void sift_down(struct task_queue *queue, size_t index)
{
    for (;;) {
        size_t left = 2 * index + 1;
        size_t right = left + 1;
        size_t smallest = index;
        if (left < queue->size && task_precedes(&queue->heap[left], &queue->heap[smallest]))
            smallest = left;
        if (right < queue->size && task_precedes(&queue->heap[right], &queue->heap[smallest]))
            smallest = right;
        if (smallest == index)
            return;
        swap_tasks(&queue->heap[index], &queue->heap[smallest]);
        index = smallest;
    }
}

static void report_invalid_priority(const char *label, int priority)
{
    fprintf(stderr, "%s: task %s has priority %d outside 0..%d\n", __func__, label, priority,
            MAX_PRIORITY);
}

/* Adds a task. Returns 0, or -1 if the queue is full or the priority invalid. */
static int task_queue_push(struct task_queue *queue, const char *label, int priority)
{
    if (priority < 0 || priority > MAX_PRIORITY) {
        report_invalid_priority(label, priority);
        return -1;
    }
    if (queue->size == QUEUE_CAPACITY)
        return -1;
    struct task *slot = &queue->heap[queue->size++];
    snprintf(slot->label, sizeof slot->label, "%s", label);
    slot->priority = priority;
    slot->sequence = queue->next_sequence++;
    sift_up(queue, queue->size - 1);
    return 0;
}

static struct task task_queue_pop(struct task_queue *queue)
{
    assert(queue->size > 0 && "pop from an empty queue");
    struct task top = queue->heap[0];
    queue->heap[0] = queue->heap[--queue->size];
    sift_down(queue, 0);
    return top;
}

/* Verifies the heap property for every parent-child pair. */
static int task_queue_is_valid(const struct task_queue *queue)
{
    for (size_t child = 1; child < queue->size; child++) {
        if (task_precedes(&queue->heap[child], &queue->heap[(child - 1) / 2]))
            return 0;
    }
    return 1;
}

int main(void)
{
    static struct task_queue queue;
    static const struct {
        const char *label;
        int priority;
    } incoming[] = {
        {"rotate-logs", 5}, {"page-oncall", 0}, {"rebuild-index", 7}, {"send-digest", 5},
        {"renew-cert", 1},  {"bad-entry", 12},  {"vacuum-db", 7},     {"ack-alert", 0},
    };

    for (size_t i = 0; i < sizeof incoming / sizeof incoming[0]; i++)
        task_queue_push(&queue, incoming[i].label, incoming[i].priority);
    assert(task_queue_is_valid(&queue));
    printf("%zu tasks queued\n", queue.size);
    while (queue.size > 0) {
        struct task next = task_queue_pop(&queue);
        printf("run %-14s priority %d (submitted #%u)\n", next.label, next.priority,
               next.sequence);
    }
    return 0;
}
