#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

static const char *skip_whitespace_and_comments(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '#')
            return p;
        while (*p != '\0' && *p != '\n')
            p++;
    }
}

/* Reads a non-negative decimal number. Returns NULL if none is present. */
static const char *read_unsigned(const char *p, int *value)
{
    p = skip_whitespace_and_comments(p);
    if (!isdigit((unsigned char)*p))
        return NULL;
    long parsed = 0;
    while (isdigit((unsigned char)*p) && parsed <= 100000)
        parsed = parsed * 10 + (*p++ - '0');
    *value = (int)parsed;
    return p;
}

/* Decodes an ASCII ("P2") PGM image held in memory. On failure nothing is left
   allocated and image is zeroed. Returns 0 on success, a negative code otherwise. */
int decode_pgm_image(const char *text, struct gray_image *image)
{
    int status = -1;
    unsigned char *pixels = NULL;
    int *row_sums = NULL;
    const char *p = skip_whitespace_and_comments(text);

    memset(image, 0, sizeof *image);
    if (strncmp(p, "P2", 2) != 0)
        goto fail;
    p += 2;
    status = -2;
    if ((p = read_unsigned(p, &image->width)) == NULL ||
        (p = read_unsigned(p, &image->height)) == NULL ||
        (p = read_unsigned(p, &image->max_value)) == NULL)
        goto fail;
    if (image->width == 0 || image->height == 0 || image->max_value == 0 || image->max_value > 255)
        goto fail;

    status = -3;
    pixels = malloc((size_t)image->width * (size_t)image->height);
    if (pixels == NULL)
        goto fail;
    row_sums = calloc((size_t)image->height, sizeof *row_sums);
    if (row_sums == NULL)
        goto fail_free_pixels;

    status = -4;
    for (int y = 0; y < image->height; y++) {
        for (int x = 0; x < image->width; x++) {
            int value;
            if ((p = read_unsigned(p, &value)) == NULL || value > image->max_value)
                goto fail_free_sums;
            pixels[y * image->width + x] = (unsigned char)value;
            row_sums[y] += value;
        }
    }
    /* A row that is entirely black is treated as a transmission error. */
    for (int y = 0; y < image->height; y++) {
        if (row_sums[y] == 0)
            goto fail_free_sums;
    }

    free(row_sums);
    image->pixels = pixels;
    return 0;

fail_free_sums:
    free(row_sums);
fail_free_pixels:
    free(pixels);
fail:
    memset(image, 0, sizeof *image);
    return status;
}

/* Histogram equalization into a newly allocated image. Returns 0 on success. */
int build_equalized_copy(const struct gray_image *source, struct gray_image *result)
{
    int status = -1;
    size_t pixel_count = (size_t)source->width * (size_t)source->height;
    unsigned *histogram = calloc(256, sizeof *histogram);
    unsigned *cumulative = NULL;

    *result = *source;
    result->pixels = NULL;
    if (histogram == NULL)
        goto out;
    cumulative = malloc(256 * sizeof *cumulative);
    if (cumulative == NULL)
        goto out;
    result->pixels = malloc(pixel_count);
    if (result->pixels == NULL)
        goto out;

    for (size_t i = 0; i < pixel_count; i++)
        histogram[source->pixels[i]]++;
    unsigned running = 0;
    for (int level = 0; level < 256; level++) {
        running += histogram[level];
        cumulative[level] = running;
    }
    for (size_t i = 0; i < pixel_count; i++)
        result->pixels[i] = (unsigned char)(cumulative[source->pixels[i]] *
                                            (unsigned)source->max_value / pixel_count);
    status = 0;

out:
    free(cumulative);
    free(histogram);
    return status;
}

void free_gray_image(struct gray_image *image)
{
    free(image->pixels);
    image->pixels = NULL;
}
