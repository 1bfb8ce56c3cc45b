#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MATRIX_SIZE 6
#define SAMPLE_COUNT 64
#define HISTOGRAM_BINS 8
#define PRIME_LIMIT 1000

typedef double matrix_t[MATRIX_SIZE][MATRIX_SIZE];

static uint32_t crc32_table[256];

static void crc32_build_table(void)
{
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        crc32_table[byte] = crc;
    }
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *data, size_t length)
{
    crc = ~crc;
    for (size_t i = 0; i < length; i++)
        crc = crc32_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static uint32_t adler32_checksum(const unsigned char *data, size_t length)
{
    const uint32_t modulus = 65521;
    uint32_t a = 1;
    uint32_t b = 0;
    for (size_t i = 0; i < length; i++) {
        a = (a + data[i]) % modulus;
        b = (b + a) % modulus;
    }
    return (b << 16) | a;
}

static uint16_t fletcher16_checksum(const unsigned char *data, size_t length)
{
    uint16_t sum1 = 0;
    uint16_t sum2 = 0;
    for (size_t i = 0; i < length; i++) {
        sum1 = (uint16_t)((sum1 + data[i]) % 255);
        sum2 = (uint16_t)((sum2 + sum1) % 255);
    }
    return (uint16_t)((sum2 << 8) | sum1);
}

static void matrix_fill_hilbert_like(matrix_t m)
{
    for (int i = 0; i < MATRIX_SIZE; i++)
        for (int j = 0; j < MATRIX_SIZE; j++)
            m[i][j] = 1.0 / (double)(i + j + 1) + (i == j ? 1.0 : 0.0);
}

static void matrix_multiply(matrix_t result, matrix_t a, matrix_t b)
{
    for (int i = 0; i < MATRIX_SIZE; i++) {
        for (int j = 0; j < MATRIX_SIZE; j++) {
            double sum = 0.0;
            for (int k = 0; k < MATRIX_SIZE; k++)
                sum += a[i][k] * b[k][j];
            result[i][j] = sum;
        }
    }
}

static void matrix_transpose_in_place(matrix_t m)
{
    for (int i = 0; i < MATRIX_SIZE; i++) {
        for (int j = i + 1; j < MATRIX_SIZE; j++) {
            double saved = m[i][j];
            m[i][j] = m[j][i];
            m[j][i] = saved;
        }
    }
}

static double matrix_trace(matrix_t m)
{
    double trace = 0.0;
    for (int i = 0; i < MATRIX_SIZE; i++)
        trace += m[i][i];
    return trace;
}

/* Determinant by Gaussian elimination with partial pivoting; m is overwritten. */
static double matrix_determinant(matrix_t m)
{
    double determinant = 1.0;
    for (int column = 0; column < MATRIX_SIZE; column++) {
        int pivot = column;
        for (int row = column + 1; row < MATRIX_SIZE; row++) {
            double candidate = m[row][column] < 0 ? -m[row][column] : m[row][column];
            double best = m[pivot][column] < 0 ? -m[pivot][column] : m[pivot][column];
            if (candidate > best)
                pivot = row;
        }
        if (m[pivot][column] == 0.0)
            return 0.0;
        if (pivot != column) {
            for (int k = 0; k < MATRIX_SIZE; k++) {
                double saved = m[column][k];
                m[column][k] = m[pivot][k];
                m[pivot][k] = saved;
            }
            determinant = -determinant;
        }
        determinant *= m[column][column];
        for (int row = column + 1; row < MATRIX_SIZE; row++) {
            double factor = m[row][column] / m[column][column];
            for (int k = column; k < MATRIX_SIZE; k++)
                m[row][k] -= factor * m[column][k];
        }
    }
    return determinant;
}

/* Fills samples with a deterministic linear congruential sequence in [0, 1000). */
static void generate_samples(int *samples, int count, uint32_t seed)
{
    for (int i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        samples[i] = (int)((seed >> 8) % 1000);
    }
}

static void compute_mean_variance(const int *samples, int count, double *mean, double *variance)
{
    double sum = 0.0;
    double squares = 0.0;
    for (int i = 0; i < count; i++)
        sum += samples[i];
    *mean = sum / count;
    for (int i = 0; i < count; i++)
        squares += (samples[i] - *mean) * (samples[i] - *mean);
    *variance = squares / (count - 1);
}

static void build_histogram(const int *samples, int count, int *bins, int bin_count, int max_value)
{
    memset(bins, 0, (size_t)bin_count * sizeof *bins);
    for (int i = 0; i < count; i++) {
        int bin = samples[i] * bin_count / max_value;
        bins[bin < bin_count ? bin : bin_count - 1]++;
    }
}

static void moving_average(const int *samples, int count, int window, double *averages)
{
    long running = 0;
    for (int i = 0; i < count; i++) {
        running += samples[i];
        if (i >= window)
            running -= samples[i - window];
        averages[i] = (double)running / (i + 1 < window ? i + 1 : window);
    }
}

static int count_primes_with_sieve(int limit)
{
    static unsigned char composite[PRIME_LIMIT + 1];
    int primes = 0;
    memset(composite, 0, sizeof composite);
    for (int n = 2; n <= limit; n++) {
        if (composite[n])
            continue;
        primes++;
        for (int multiple = n * n; multiple <= limit; multiple += n)
            composite[multiple] = 1;
    }
    return primes;
}

int main(void)
{
    static const char message[] = "The quick brown fox jumps over the lazy dog";
    const unsigned char *bytes = (const unsigned char *)message;
    size_t length = sizeof message - 1;

    crc32_build_table();
    printf("crc32=%08x adler32=%08x fletcher16=%04x\n", crc32_update(0, bytes, length),
           adler32_checksum(bytes, length), fletcher16_checksum(bytes, length));

    matrix_t a, b, product;
    matrix_fill_hilbert_like(a);
    matrix_fill_hilbert_like(b);
    matrix_transpose_in_place(b);
    matrix_multiply(product, a, b);
    printf("trace(A*B^T)=%.6f det(A)=%.6f\n", matrix_trace(product), matrix_determinant(a));

    int samples[SAMPLE_COUNT];
    int bins[HISTOGRAM_BINS];
    double averages[SAMPLE_COUNT];
    double mean, variance;
    generate_samples(samples, SAMPLE_COUNT, 12345u);
    compute_mean_variance(samples, SAMPLE_COUNT, &mean, &variance);
    build_histogram(samples, SAMPLE_COUNT, bins, HISTOGRAM_BINS, 1000);
    moving_average(samples, SAMPLE_COUNT, 8, averages);
    printf("mean=%.3f variance=%.3f last moving average=%.3f\nhistogram:", mean, variance,
           averages[SAMPLE_COUNT - 1]);
    for (int i = 0; i < HISTOGRAM_BINS; i++)
        printf(" %d", bins[i]);
    printf("\nprimes below %d: %d\n", PRIME_LIMIT, count_primes_with_sieve(PRIME_LIMIT));
    return 0;
}
