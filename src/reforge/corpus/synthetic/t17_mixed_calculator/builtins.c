#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"

static double builtin_sqrt(const double *args) { return sqrt(args[0]); }
static double builtin_sin(const double *args) { return sin(args[0]); }
static double builtin_cos(const double *args) { return cos(args[0]); }
static double builtin_exp(const double *args) { return exp(args[0]); }
static double builtin_ln(const double *args) { return log(args[0]); }
static double builtin_abs(const double *args) { return fabs(args[0]); }
static double builtin_floor(const double *args) { return floor(args[0]); }
static double builtin_hypot(const double *args) { return hypot(args[0], args[1]); }
static double builtin_atan2(const double *args) { return atan2(args[0], args[1]); }

static double builtin_max(const double *args)
{
    return args[0] > args[1] ? args[0] : args[1];
}

static double builtin_min(const double *args)
{
    return args[0] < args[1] ? args[0] : args[1];
}

/* Clamps args[0] into [args[1], args[2]]. */
static double builtin_clamp(const double *args)
{
    if (args[0] < args[1])
        return args[1];
    if (args[0] > args[2])
        return args[2];
    return args[0];
}

/* Sorted by name so that find_builtin can use bsearch. */
static const struct builtin builtin_table[] = {
    {"abs", 1, builtin_abs},     {"atan2", 2, builtin_atan2}, {"clamp", 3, builtin_clamp},
    {"cos", 1, builtin_cos},     {"exp", 1, builtin_exp},     {"floor", 1, builtin_floor},
    {"hypot", 2, builtin_hypot}, {"ln", 1, builtin_ln},       {"max", 2, builtin_max},
    {"min", 2, builtin_min},     {"sin", 1, builtin_sin},     {"sqrt", 1, builtin_sqrt},
};

static int compare_builtin_name(const void *key, const void *element)
{
    return strcmp(key, ((const struct builtin *)element)->name);
}

const struct builtin *find_builtin(const char *name)
{
    return bsearch(name, builtin_table, CALC_ARRAY_LEN(builtin_table), sizeof builtin_table[0],
                   compare_builtin_name);
}

size_t builtin_count(void)
{
    return CALC_ARRAY_LEN(builtin_table);
}
