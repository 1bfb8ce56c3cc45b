#ifndef FIXED_VEC_H
#define FIXED_VEC_H

#include <stdint.h>

/* Q16.16 fixed-point numbers and 2-D vectors built from them. */
typedef int32_t fixed_t;

#define FIXED_SHIFT 16
#define FIXED_ONE ((fixed_t)1 << FIXED_SHIFT)
#define FIXED_FROM_INT(n) ((fixed_t)((n) * FIXED_ONE))
#define FIXED_TO_INT(f) ((int)((f) >> FIXED_SHIFT))
#define FIXED_FRACTION_MILLIS(f) ((int)((((f) & (FIXED_ONE - 1)) * 1000) >> FIXED_SHIFT))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SQUARE(x) ((x) * (x))

struct vec2 {
    fixed_t x;
    fixed_t y;
};

struct particle {
    struct vec2 position;
    struct vec2 velocity;
    fixed_t radius;
    int bounces;
};

struct world_box {
    struct vec2 min_corner;
    struct vec2 max_corner;
};

static inline fixed_t fixed_mul(fixed_t a, fixed_t b)
{
    return (fixed_t)(((int64_t)a * b) >> FIXED_SHIFT);
}

static inline fixed_t fixed_div(fixed_t a, fixed_t b)
{
    return (fixed_t)(((int64_t)a << FIXED_SHIFT) / b);
}

static inline struct vec2 vec2_make(fixed_t x, fixed_t y)
{
    struct vec2 v = {x, y};
    return v;
}

static inline struct vec2 vec2_add(struct vec2 a, struct vec2 b)
{
    return vec2_make(a.x + b.x, a.y + b.y);
}

static inline struct vec2 vec2_sub(struct vec2 a, struct vec2 b)
{
    return vec2_make(a.x - b.x, a.y - b.y);
}

static inline struct vec2 vec2_scale(struct vec2 v, fixed_t factor)
{
    return vec2_make(fixed_mul(v.x, factor), fixed_mul(v.y, factor));
}

static inline fixed_t vec2_dot(struct vec2 a, struct vec2 b)
{
    return fixed_mul(a.x, b.x) + fixed_mul(a.y, b.y);
}

static inline fixed_t vec2_length_squared(struct vec2 v)
{
    return vec2_dot(v, v);
}

/* particles.c */
void particles_init_grid(struct particle *particles, int count, fixed_t spacing);
void particles_apply_gravity(struct particle *particles, int count, fixed_t gravity, fixed_t dt);
void particles_move(struct particle *particles, int count, fixed_t dt);
int particles_bounce_off_walls(struct particle *particles, int count, const struct world_box *box,
                               fixed_t restitution);

/* collide.c */
int count_overlapping_pairs(const struct particle *particles, int count);
int find_closest_pair(const struct particle *particles, int count, int *first, int *second);
fixed_t total_kinetic_energy(const struct particle *particles, int count);

#endif
