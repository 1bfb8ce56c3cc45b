/* Test program for the binary-analysis stage: each function exercises one case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int global_counter = 3;
static const char *table[] = {"alpha", "beta", "gamma"};

/* Ends in exit(): a no-return function. */
__attribute__((noinline)) void usage(void) {
    fprintf(stderr, "usage: sample N\n");
    exit(1);
}

/* Placed right after usage(); its string must not leak into usage's output. */
__attribute__((noinline)) int after_usage(int k) {
    printf("only in after_usage %d\n", k);
    return k * 7;
}

__attribute__((noinline)) static void die(const char *msg) {
    fprintf(stderr, "fatal: %s\n", msg);
    exit(2);
}

__attribute__((noinline)) int helper(int a, int b) {
    int s = 0;
    for (int i = 0; i < a; i++) {
        s += i * b + global_counter;
    }
    printf("helper %d\n", s);
    return s;
}

/* At -O2 this is a tail call: mov esi, 2; jmp helper. */
__attribute__((noinline)) int wrap2(int a) { return helper(a, 2); }

/* At -O2 a single jump to helper_void: a thunk. */
__attribute__((noinline)) void helper_void(void) { puts("helper_void"); }
__attribute__((noinline)) void thunk(void) { helper_void(); }

/* One if/else with a join: 4 basic blocks, cyclomatic complexity 2 at -O0. */
__attribute__((noinline)) int classify(int x) {
    int r;
    if (x > 10) {
        r = puts("big");
    } else {
        r = puts("small") + 1;
    }
    return r;
}

/* A dense switch: gcc compiles it to a jump table. */
__attribute__((noinline)) int dispatch(int x) {
    switch (x) {
    case 0: return puts("zero");
    case 1: return puts("one");
    case 2: return puts("two") + 3;
    case 3: return puts("three") * 2;
    case 4: return puts("four") - 1;
    case 5: return puts("five") ^ 7;
    case 6: return puts("six") | 8;
    case 7: return global_counter + 11;
    default: return -1;
    }
}

/* Calls strlen, malloc and memcpy; the error path calls the no-return die(). */
__attribute__((noinline)) char *duplicate(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (!p) die("out of memory");
    memcpy(p, s, n + 1);
    return p;
}

/* The unlikely branch goes to a .cold part at -O2. */
__attribute__((noinline)) int checked(int x) {
    if (__builtin_expect(x < 0, 0)) {
        fprintf(stderr, "negative value %d\n", x);
        abort();
    }
    return x * 3 + global_counter;
}

/* An indirect call through a parameter. */
__attribute__((noinline)) int apply(int (*fn)(int), int x) { return fn(x) + 1; }

int main(int argc, char **argv) {
    if (argc < 2) usage();
    int n = atoi(argv[1]);
    char *d = duplicate(table[n % 3]);
    printf("%s %d %d %d %d\n", d, wrap2(n), classify(n), dispatch(n), checked(n));
    thunk();
    after_usage(apply(after_usage, n));
    free(d);
    return 0;
}
