#include "image.h"

/* Runs a tiny pixel filter language over every pixel with direct threading
   (GCC labels as values). Instructions, one character each:
     i  invert      b  brighten by 16      d  darken by 16
     t  threshold at half the maximum      c  clamp to [16, max-16]
     s  replace with the previous pixel's input value (shifts the image right)
   Returns the number of instructions executed, or -1 for an unknown one. */
int run_filter_program(const char *program, struct gray_image *image)
{
    static void *const dispatch[128] = {
        ['i'] = &&op_invert,    ['b'] = &&op_brighten, ['d'] = &&op_darken,
        ['t'] = &&op_threshold, ['c'] = &&op_clamp,    ['s'] = &&op_take_previous,
        ['\0'] = &&op_end,
    };
    int pixel_count = image->width * image->height;
    int max_value = image->max_value;
    int executed = 0;
    int value = 0;
    int previous = 0;
    const char *pc;

    for (int i = 0; i < pixel_count; i++) {
        value = image->pixels[i];
        pc = program;

#define DISPATCH_NEXT()                                               \
    do {                                                              \
        unsigned char op = (unsigned char)*pc++;                      \
        if (op >= 128 || dispatch[op] == 0)                           \
            return -1;                                                \
        executed++;                                                   \
        goto *dispatch[op];                                           \
    } while (0)

        DISPATCH_NEXT();
    op_invert:
        value = max_value - value;
        DISPATCH_NEXT();
    op_brighten:
        value = value + 16 > max_value ? max_value : value + 16;
        DISPATCH_NEXT();
    op_darken:
        value = value < 16 ? 0 : value - 16;
        DISPATCH_NEXT();
    op_threshold:
        value = value * 2 >= max_value ? max_value : 0;
        DISPATCH_NEXT();
    op_clamp:
        if (value < 16)
            value = 16;
        else if (value > max_value - 16)
            value = max_value - 16;
        DISPATCH_NEXT();
    op_take_previous:
        value = previous;
        DISPATCH_NEXT();
    op_end:
        executed--;
        previous = image->pixels[i];
        image->pixels[i] = (unsigned char)value;
#undef DISPATCH_NEXT
    }
    return executed;
}
