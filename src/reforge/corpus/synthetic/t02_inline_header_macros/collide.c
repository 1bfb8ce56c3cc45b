#include "fixed_vec.h"

static fixed_t distance_squared(const struct particle *a, const struct particle *b)
{
    return vec2_length_squared(vec2_sub(a->position, b->position));
}

int count_overlapping_pairs(const struct particle *particles, int count)
{
    int overlaps = 0;
    for (int i = 0; i < count; i++) {
        for (int j = i + 1; j < count; j++) {
            fixed_t reach = particles[i].radius + particles[j].radius;
            if (distance_squared(&particles[i], &particles[j]) < fixed_mul(reach, reach))
                overlaps++;
        }
    }
    return overlaps;
}

/* Stores the indices of the two closest particles. Returns 0, or -1 if count < 2. */
int find_closest_pair(const struct particle *particles, int count, int *first, int *second)
{
    fixed_t best = INT32_MAX;
    if (count < 2)
        return -1;
    for (int i = 0; i < count; i++) {
        for (int j = i + 1; j < count; j++) {
            fixed_t d2 = distance_squared(&particles[i], &particles[j]);
            if (d2 < best) {
                best = d2;
                *first = i;
                *second = j;
            }
        }
    }
    return 0;
}

/* Sum of v^2 / 2 over all particles, with unit mass. */
fixed_t total_kinetic_energy(const struct particle *particles, int count)
{
    fixed_t energy = 0;
    for (int i = 0; i < count; i++)
        energy += vec2_length_squared(particles[i].velocity) / 2;
    return energy;
}
