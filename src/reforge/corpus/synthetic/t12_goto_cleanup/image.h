#ifndef IMAGE_H
#define IMAGE_H

struct gray_image {
    int width;
    int height;
    int max_value;
    unsigned char *pixels;
};

/* pgm_decode.c */
int decode_pgm_image(const char *text, struct gray_image *image);
int build_equalized_copy(const struct gray_image *source, struct gray_image *result);
void free_gray_image(struct gray_image *image);

/* threaded_filter.c */
int run_filter_program(const char *program, struct gray_image *image);

#endif
