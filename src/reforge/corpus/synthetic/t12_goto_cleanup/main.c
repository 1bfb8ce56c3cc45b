#include <stdio.h>

#include "image.h"

static const char sample_pgm[] =
    "P2\n"
    "# 6x4 gradient\n"
    "6 4 255\n"
    "  0  20  40  60  80 100\n"
    " 10  30  50  70  90 110\n"
    "200 210 220 230 240 250\n"
    "  5   5   5   5   5 255\n";

static const char truncated_pgm[] = "P2 3 2 255 1 2 3 4";
static const char black_row_pgm[] = "P2 2 2 255 0 0 9 9";
static const char wrong_magic[] = "P5 2 2 255";

static void print_image(const char *title, const struct gray_image *image)
{
    printf("%s (%dx%d, max %d)\n", title, image->width, image->height, image->max_value);
    for (int y = 0; y < image->height; y++) {
        for (int x = 0; x < image->width; x++)
            printf(" %3d", image->pixels[y * image->width + x]);
        printf("\n");
    }
}

int main(void)
{
    struct gray_image image;
    struct gray_image equalized;

    if (decode_pgm_image(sample_pgm, &image) != 0) {
        printf("sample image failed to decode\n");
        return 1;
    }
    print_image("decoded", &image);
    if (build_equalized_copy(&image, &equalized) == 0) {
        print_image("equalized", &equalized);
        free_gray_image(&equalized);
    }
    printf("filter 'ib' executed %d instructions\n", run_filter_program("ib", &image));
    print_image("inverted and brightened", &image);
    printf("filter 'stc' executed %d instructions\n", run_filter_program("stc", &image));
    print_image("shifted, thresholded and clamped", &image);
    printf("filter 'x' returned %d\n", run_filter_program("x", &image));
    free_gray_image(&image);

    printf("truncated: %d\n", decode_pgm_image(truncated_pgm, &image));
    printf("black row: %d\n", decode_pgm_image(black_row_pgm, &image));
    printf("wrong magic: %d\n", decode_pgm_image(wrong_magic, &image));
    return 0;
}
