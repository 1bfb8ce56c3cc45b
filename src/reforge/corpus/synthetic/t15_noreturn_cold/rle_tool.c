#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_CAPACITY 256

enum tool_mode { MODE_ENCODE, MODE_DECODE, MODE_ROUNDTRIP };

struct byte_buffer {
    unsigned char data[OUTPUT_CAPACITY];
    size_t length;
};

struct tool_options {
    enum tool_mode mode;
    int verbose;
    const char *input;
};

/* Prints the usage text and terminates with status 2. */
void die_with_usage(const char *program, const char *problem)
{
    fprintf(stderr, "error: %s\n", problem);
    fprintf(stderr, "usage: %s [-v] encode|decode|roundtrip TEXT\n", program);
    exit(2);
}

/* Reports a corrupted buffer state and aborts. The cold attribute makes gcc -O2
   move the branches that call it into `.text.unlikely` as `caller.cold` parts.
   gcc 12.2 does not split off a branch that calls fprintf and then abort directly,
   so the message is printed here. */
static void __attribute__((cold, noreturn)) report_buffer_overflow(size_t length)
{
    fprintf(stderr, "internal error: output buffer overflow at %zu bytes\n", length);
    abort();
}

/* Appends one byte. Overflow means the size estimate of a caller is wrong, which
   is a program bug, so it aborts instead of truncating. */
static void buffer_push_byte(struct byte_buffer *buffer, unsigned char byte)
{
    if (__builtin_expect(buffer->length >= OUTPUT_CAPACITY, 0))
        report_buffer_overflow(buffer->length);
    buffer->data[buffer->length++] = byte;
}

/* Run-length encodes text as (count, byte) pairs with counts up to 255. */
void rle_encode(const unsigned char *input, size_t length, struct byte_buffer *output)
{
    output->length = 0;
    size_t i = 0;
    while (i < length) {
        unsigned char byte = input[i];
        size_t run = 1;
        while (i + run < length && input[i + run] == byte && run < 255)
            run++;
        buffer_push_byte(output, (unsigned char)run);
        buffer_push_byte(output, byte);
        i += run;
    }
}

/* Decodes (count, byte) pairs. Returns 0, or -1 for odd-length or zero-count input. */
int rle_decode(const unsigned char *input, size_t length, struct byte_buffer *output)
{
    output->length = 0;
    if (length % 2 != 0)
        return -1;
    for (size_t i = 0; i < length; i += 2) {
        if (input[i] == 0 || output->length + input[i] > OUTPUT_CAPACITY)
            return -1;
        for (unsigned count = 0; count < input[i]; count++)
            buffer_push_byte(output, input[i + 1]);
    }
    return 0;
}

/* Reads "3a2b" style text: a decimal count followed by one character. */
static int parse_encoded_text(const char *text, struct byte_buffer *output)
{
    output->length = 0;
    while (*text != '\0') {
        unsigned count = 0;
        if (*text < '0' || *text > '9')
            return -1;
        while (*text >= '0' && *text <= '9')
            count = count * 10 + (unsigned)(*text++ - '0');
        if (count == 0 || count > 255 || *text == '\0' || output->length + 2 > OUTPUT_CAPACITY)
            return -1;
        buffer_push_byte(output, (unsigned char)count);
        buffer_push_byte(output, (unsigned char)*text++);
    }
    return 0;
}

static void print_encoded(const struct byte_buffer *buffer)
{
    for (size_t i = 0; i + 1 < buffer->length; i += 2)
        printf("%u%c", buffer->data[i], buffer->data[i + 1]);
    printf("\n");
}

static const char *mode_label(enum tool_mode mode)
{
    switch (mode) {
    case MODE_ENCODE: return "encode";
    case MODE_DECODE: return "decode";
    case MODE_ROUNDTRIP: return "roundtrip";
    }
    /* Every enumerator is handled above; reaching this line means memory corruption. */
    abort();
}

struct tool_options parse_arguments(int argc, char **argv)
{
    struct tool_options options = {MODE_ENCODE, 0, NULL};
    int index = 1;
    if (index < argc && strcmp(argv[index], "-v") == 0) {
        options.verbose = 1;
        index++;
    }
    if (argc - index != 2)
        die_with_usage(argv[0], "expected a mode and one text argument");
    if (strcmp(argv[index], "encode") == 0)
        options.mode = MODE_ENCODE;
    else if (strcmp(argv[index], "decode") == 0)
        options.mode = MODE_DECODE;
    else if (strcmp(argv[index], "roundtrip") == 0)
        options.mode = MODE_ROUNDTRIP;
    else
        die_with_usage(argv[0], "unknown mode");
    options.input = argv[index + 1];
    if (strlen(options.input) > OUTPUT_CAPACITY / 2)
        die_with_usage(argv[0], "text too long");
    return options;
}

/* Encodes then decodes text and reports whether the round trip is lossless. */
static int run_roundtrip(const char *text, int verbose)
{
    struct byte_buffer encoded;
    struct byte_buffer decoded;
    size_t length = strlen(text);
    rle_encode((const unsigned char *)text, length, &encoded);
    if (verbose)
        print_encoded(&encoded);
    if (rle_decode(encoded.data, encoded.length, &decoded) != 0)
        return -1;
    int same = decoded.length == length && memcmp(decoded.data, text, length) == 0;
    printf("%zu bytes -> %zu encoded bytes, round trip %s\n", length, encoded.length,
           same ? "ok" : "MISMATCH");
    return same ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct tool_options options = parse_arguments(argc, argv);
    struct byte_buffer encoded;
    struct byte_buffer decoded;

    if (options.verbose)
        printf("mode: %s\n", mode_label(options.mode));
    switch (options.mode) {
    case MODE_ENCODE:
        rle_encode((const unsigned char *)options.input, strlen(options.input), &encoded);
        print_encoded(&encoded);
        break;
    case MODE_DECODE:
        if (parse_encoded_text(options.input, &encoded) != 0 ||
            rle_decode(encoded.data, encoded.length, &decoded) != 0) {
            fprintf(stderr, "invalid encoded text\n");
            return 1;
        }
        printf("%.*s\n", (int)decoded.length, (const char *)decoded.data);
        break;
    case MODE_ROUNDTRIP:
        return run_roundtrip(options.input, options.verbose) == 0 ? 0 : 1;
    }
    return 0;
}
