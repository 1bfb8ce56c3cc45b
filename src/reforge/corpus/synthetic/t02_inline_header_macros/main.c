#include <stdio.h>

#include "fixed_vec.h"

#define PARTICLE_COUNT 9
#define SIMULATION_STEPS 40

static void print_fixed(const char *label, fixed_t value)
{
    const char *sign = value < 0 ? "-" : "";
    fixed_t magnitude = value < 0 ? -value : value;
    printf("%s%s%d.%03d", label, sign, FIXED_TO_INT(magnitude), FIXED_FRACTION_MILLIS(magnitude));
}

static void print_particle_states(const struct particle *particles, int count)
{
    for (int i = 0; i < count; i++) {
        printf("particle %d:", i);
        print_fixed(" x=", particles[i].position.x);
        print_fixed(" y=", particles[i].position.y);
        print_fixed(" vx=", particles[i].velocity.x);
        print_fixed(" vy=", particles[i].velocity.y);
        printf(" bounces=%d\n", particles[i].bounces);
    }
}

static void run_simulation(struct particle *particles, int count, const struct world_box *box)
{
    const fixed_t dt = FIXED_ONE / 10;
    const fixed_t gravity = FIXED_FROM_INT(10);
    const fixed_t restitution = (FIXED_ONE * 3) / 4;
    int wall_hits = 0;

    for (int step = 0; step < SIMULATION_STEPS; step++) {
        particles_apply_gravity(particles, count, gravity, dt);
        particles_move(particles, count, dt);
        wall_hits += particles_bounce_off_walls(particles, count, box, restitution);
        if (step % 10 == 9) {
            printf("step %2d: hits=%d overlaps=%d", step + 1, wall_hits,
                   count_overlapping_pairs(particles, count));
            print_fixed(" energy=", total_kinetic_energy(particles, count));
            printf("\n");
        }
    }
}

int main(void)
{
    struct particle particles[PARTICLE_COUNT];
    struct world_box box = {vec2_make(0, 0), vec2_make(FIXED_FROM_INT(8), FIXED_FROM_INT(8))};
    int first = 0;
    int second = 0;

    particles_init_grid(particles, (int)ARRAY_LEN(particles), FIXED_FROM_INT(2));
    run_simulation(particles, PARTICLE_COUNT, &box);
    print_particle_states(particles, PARTICLE_COUNT);
    if (find_closest_pair(particles, PARTICLE_COUNT, &first, &second) == 0) {
        /* Both squared speeds get a small floor so the ratio is defined for resting particles. */
        fixed_t first_energy = vec2_length_squared(particles[first].velocity);
        fixed_t second_energy = vec2_length_squared(particles[second].velocity);
        fixed_t speed_ratio = fixed_div(CLAMP(first_energy, FIXED_ONE / 100, FIXED_ONE * 400),
                                        CLAMP(second_energy, FIXED_ONE / 100, FIXED_ONE * 400));
        printf("closest pair: %d and %d", first, second);
        print_fixed(" kinetic energy ratio=", speed_ratio);
        printf("\n");
    }
    return 0;
}
