#include "fixed_vec.h"

/* Places particles on a square grid with the given spacing and gives each one a
   small sideways velocity that depends on its column. */
void particles_init_grid(struct particle *particles, int count, fixed_t spacing)
{
    int columns = 1;
    while (SQUARE(columns) < count)
        columns++;
    for (int i = 0; i < count; i++) {
        int row = i / columns;
        int column = i % columns;
        particles[i].position = vec2_make(spacing * (column + 1), spacing * (row + 1));
        particles[i].velocity = vec2_make(FIXED_FROM_INT(column - columns / 2), 0);
        particles[i].radius = FIXED_ONE / 2;
        particles[i].bounces = 0;
    }
}

void particles_apply_gravity(struct particle *particles, int count, fixed_t gravity, fixed_t dt)
{
    struct vec2 delta = vec2_make(0, -fixed_mul(gravity, dt));
    for (int i = 0; i < count; i++)
        particles[i].velocity = vec2_add(particles[i].velocity, delta);
}

void particles_move(struct particle *particles, int count, fixed_t dt)
{
    for (int i = 0; i < count; i++) {
        struct vec2 step = vec2_scale(particles[i].velocity, dt);
        particles[i].position = vec2_add(particles[i].position, step);
    }
}

static int reflect_axis(fixed_t *position, fixed_t *velocity, fixed_t low, fixed_t high,
                        fixed_t restitution)
{
    if (*position < low) {
        *position = low;
        *velocity = -fixed_mul(*velocity, restitution);
        return 1;
    }
    if (*position > high) {
        *position = high;
        *velocity = -fixed_mul(*velocity, restitution);
        return 1;
    }
    return 0;
}

/* Keeps particles inside the box, damping the reflected velocity component.
   Returns how many wall hits happened in this step. */
int particles_bounce_off_walls(struct particle *particles, int count, const struct world_box *box,
                               fixed_t restitution)
{
    int hits = 0;
    for (int i = 0; i < count; i++) {
        struct particle *p = &particles[i];
        int hit_x = reflect_axis(&p->position.x, &p->velocity.x, box->min_corner.x + p->radius,
                                 box->max_corner.x - p->radius, restitution);
        int hit_y = reflect_axis(&p->position.y, &p->velocity.y, box->min_corner.y + p->radius,
                                 box->max_corner.y - p->radius, restitution);
        p->bounces += hit_x + hit_y;
        hits += hit_x + hit_y;
    }
    return hits;
}
