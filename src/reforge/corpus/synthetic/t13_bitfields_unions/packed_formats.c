#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* IPv4 header fields as bitfields; the wire format is serialized by hand so the
   program does not depend on the compiler's bitfield layout. */
struct ipv4_header {
    unsigned version : 4;
    unsigned header_words : 4;
    unsigned dscp : 6;
    unsigned ecn : 2;
    unsigned total_length : 16;
    unsigned identification : 16;
    unsigned flags : 3;
    unsigned fragment_offset : 13;
    unsigned ttl : 8;
    unsigned protocol : 8;
    unsigned checksum : 16;
    uint32_t source;
    uint32_t destination;
};

/* RGB565 pixel viewed either as one 16-bit word or as its three channels. */
union rgb565_pixel {
    uint16_t word;
    struct {
        unsigned blue : 5;
        unsigned green : 6;
        unsigned red : 5;
    };
};

/* A dynamically typed value with an anonymous union payload. */
enum value_kind { VALUE_INT, VALUE_REAL, VALUE_TEXT, VALUE_PAIR };

struct tagged_value {
    enum value_kind kind;
    union {
        long integer;
        double real;
        const char *text;
        struct {
            int first;
            int second;
        };
    };
};

/* Splits an IEEE 754 double into sign, biased exponent and fraction fields. */
static void decompose_double(double value, int *sign, int *exponent, uint64_t *fraction)
{
    union {
        double real;
        uint64_t bits;
    } view = {.real = value};
    *sign = (int)(view.bits >> 63);
    *exponent = (int)((view.bits >> 52) & 0x7FF);
    *fraction = view.bits & ((UINT64_C(1) << 52) - 1);
}

static uint16_t ipv4_checksum(const uint8_t *bytes, size_t length)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += (uint32_t)(bytes[i] << 8 | bytes[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put_be16(uint8_t *out, unsigned value)
{
    out[0] = (uint8_t)(value >> 8);
    out[1] = (uint8_t)value;
}

static void put_be32(uint8_t *out, uint32_t value)
{
    put_be16(out, value >> 16);
    put_be16(out + 2, value & 0xFFFF);
}

/* Writes the 20-byte wire form of header into out (network byte order). */
static void serialize_ipv4_header(const struct ipv4_header *header, uint8_t out[20])
{
    out[0] = (uint8_t)(header->version << 4 | header->header_words);
    out[1] = (uint8_t)(header->dscp << 2 | header->ecn);
    put_be16(out + 2, header->total_length);
    put_be16(out + 4, header->identification);
    put_be16(out + 6, header->flags << 13 | header->fragment_offset);
    out[8] = (uint8_t)header->ttl;
    out[9] = (uint8_t)header->protocol;
    put_be16(out + 10, header->checksum);
    put_be32(out + 12, header->source);
    put_be32(out + 16, header->destination);
}

static void parse_ipv4_header(const uint8_t in[20], struct ipv4_header *header)
{
    memset(header, 0, sizeof *header);
    header->version = in[0] >> 4;
    header->header_words = in[0] & 0xF;
    header->dscp = in[1] >> 2;
    header->ecn = in[1] & 3;
    header->total_length = (unsigned)(in[2] << 8 | in[3]);
    header->identification = (unsigned)(in[4] << 8 | in[5]);
    header->flags = in[6] >> 5;
    header->fragment_offset = (unsigned)((in[6] & 0x1F) << 8 | in[7]);
    header->ttl = in[8];
    header->protocol = in[9];
    header->checksum = (unsigned)(in[10] << 8 | in[11]);
    header->source =
        (uint32_t)in[12] << 24 | (uint32_t)in[13] << 16 | (uint32_t)in[14] << 8 | in[15];
    header->destination =
        (uint32_t)in[16] << 24 | (uint32_t)in[17] << 16 | (uint32_t)in[18] << 8 | in[19];
}

static void format_ipv4_address(uint32_t address, char *buffer, size_t capacity)
{
    snprintf(buffer, capacity, "%u.%u.%u.%u", (unsigned)(address >> 24),
             (unsigned)(address >> 16 & 0xFF), (unsigned)(address >> 8 & 0xFF),
             (unsigned)(address & 0xFF));
}

static union rgb565_pixel pack_rgb565(unsigned red, unsigned green, unsigned blue)
{
    union rgb565_pixel pixel = {.word = 0};
    pixel.red = (red >> 3) & 0x1F;
    pixel.green = (green >> 2) & 0x3F;
    pixel.blue = (blue >> 3) & 0x1F;
    return pixel;
}

/* Expands a 5- or 6-bit channel back to 8 bits by replicating its high bits. */
static unsigned expand_channel(unsigned value, int bits)
{
    return (value << (8 - bits)) | (value >> (2 * bits - 8));
}

static void print_tagged_value(const struct tagged_value *value)
{
    switch (value->kind) {
    case VALUE_INT:
        printf("int %ld\n", value->integer);
        break;
    case VALUE_REAL:
        printf("real %g\n", value->real);
        break;
    case VALUE_TEXT:
        printf("text \"%s\"\n", value->text);
        break;
    case VALUE_PAIR:
        printf("pair (%d, %d)\n", value->first, value->second);
        break;
    }
}

int main(void)
{
    struct ipv4_header header = {
        .version = 4, .header_words = 5, .dscp = 46, .ecn = 1, .total_length = 60,
        .identification = 0x1c46, .flags = 2, .fragment_offset = 0, .ttl = 64, .protocol = 6,
        .source = 0xC0A80001u, .destination = 0x08080808u,
    };
    uint8_t wire[20];
    struct ipv4_header parsed;
    char source[16], destination[16];

    serialize_ipv4_header(&header, wire);
    header.checksum = ipv4_checksum(wire, sizeof wire);
    serialize_ipv4_header(&header, wire);
    parse_ipv4_header(wire, &parsed);
    format_ipv4_address(parsed.source, source, sizeof source);
    format_ipv4_address(parsed.destination, destination, sizeof destination);
    printf("ipv4 %s -> %s ttl=%u proto=%u dscp=%u flags=%u checksum=%04x verify=%04x\n", source,
           destination, parsed.ttl, parsed.protocol, parsed.dscp, parsed.flags, parsed.checksum,
           ipv4_checksum(wire, sizeof wire));

    union rgb565_pixel pixel = pack_rgb565(255, 128, 64);
    printf("rgb565 word=%04x -> r=%u g=%u b=%u\n", pixel.word, expand_channel(pixel.red, 5),
           expand_channel(pixel.green, 6), expand_channel(pixel.blue, 5));

    int sign, exponent;
    uint64_t fraction;
    decompose_double(-6.25, &sign, &exponent, &fraction);
    printf("-6.25: sign=%d exponent=%d fraction=%013llx\n", sign, exponent - 1023,
           (unsigned long long)fraction);

    struct tagged_value values[] = {
        {.kind = VALUE_INT, .integer = -42},
        {.kind = VALUE_REAL, .real = 2.5},
        {.kind = VALUE_TEXT, .text = "bitfield"},
        {.kind = VALUE_PAIR, .first = 3, .second = 4},
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        print_tagged_value(&values[i]);
    return 0;
}
