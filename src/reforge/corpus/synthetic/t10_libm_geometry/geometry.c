#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PI 3.14159265358979323846
#define EARTH_RADIUS_KM 6371.0

struct point {
    double x;
    double y;
};

struct geo_position {
    const char *city;
    double latitude_degrees;
    double longitude_degrees;
};

static double degrees_to_radians(double degrees)
{
    return degrees * PI / 180.0;
}

static double point_distance(struct point a, struct point b)
{
    return hypot(b.x - a.x, b.y - a.y);
}

static struct point rotate_point(struct point p, struct point center, double angle_radians)
{
    double c = cos(angle_radians);
    double s = sin(angle_radians);
    double dx = p.x - center.x;
    double dy = p.y - center.y;
    struct point rotated = {center.x + dx * c - dy * s, center.y + dx * s + dy * c};
    return rotated;
}

/* Shoelace formula; positive for counter-clockwise vertex order. */
static double polygon_signed_area(const struct point *vertices, int count)
{
    double twice_area = 0.0;
    for (int i = 0; i < count; i++) {
        const struct point *a = &vertices[i];
        const struct point *b = &vertices[(i + 1) % count];
        twice_area += a->x * b->y - b->x * a->y;
    }
    return twice_area / 2.0;
}

static double polygon_perimeter(const struct point *vertices, int count)
{
    double perimeter = 0.0;
    for (int i = 0; i < count; i++)
        perimeter += point_distance(vertices[i], vertices[(i + 1) % count]);
    return perimeter;
}

/* Great-circle distance between two positions by the haversine formula. */
static double haversine_distance_km(const struct geo_position *from, const struct geo_position *to)
{
    double lat1 = degrees_to_radians(from->latitude_degrees);
    double lat2 = degrees_to_radians(to->latitude_degrees);
    double dlat = lat2 - lat1;
    double dlon = degrees_to_radians(to->longitude_degrees - from->longitude_degrees);
    double h = pow(sin(dlat / 2.0), 2) + cos(lat1) * cos(lat2) * pow(sin(dlon / 2.0), 2);
    return 2.0 * EARTH_RADIUS_KM * asin(sqrt(h));
}

static double initial_bearing_degrees(const struct geo_position *from,
                                      const struct geo_position *to)
{
    double lat1 = degrees_to_radians(from->latitude_degrees);
    double lat2 = degrees_to_radians(to->latitude_degrees);
    double dlon = degrees_to_radians(to->longitude_degrees - from->longitude_degrees);
    double y = sin(dlon) * cos(lat2);
    double x = cos(lat1) * sin(lat2) - sin(lat1) * cos(lat2) * cos(dlon);
    return fmod(atan2(y, x) * 180.0 / PI + 360.0, 360.0);
}

static double compound_interest(double principal, double yearly_rate, int periods_per_year,
                                double years)
{
    return principal * pow(1.0 + yearly_rate / periods_per_year, periods_per_year * years);
}

static double continuous_growth(double principal, double yearly_rate, double years)
{
    return principal * exp(yearly_rate * years);
}

static double years_to_double(double yearly_rate)
{
    return log(2.0) / log1p(yearly_rate);
}

/* Integrates f over [a, b] with composite Simpson's rule on an even number of intervals. */
static double simpson_integrate(double (*f)(double), double a, double b, int intervals)
{
    double h = (b - a) / intervals;
    double sum = f(a) + f(b);
    for (int i = 1; i < intervals; i++)
        sum += f(a + i * h) * (i % 2 == 1 ? 4.0 : 2.0);
    return sum * h / 3.0;
}

static double gaussian_density(double x)
{
    return exp(-x * x / 2.0) / sqrt(2.0 * PI);
}

/* Newton's method for the real cube root. */
static double newton_cube_root(double value)
{
    double x = value > 1.0 ? value / 3.0 : 1.0;
    for (int i = 0; i < 50; i++) {
        double next = x - (x * x * x - value) / (3.0 * x * x);
        if (fabs(next - x) < 1e-12)
            return next;
        x = next;
    }
    return x;
}

/* Reads "name latitude longitude" lines into cities. Returns how many were read. */
static int read_city_positions(FILE *stream, struct geo_position *cities, char names[][24], int max)
{
    int count = 0;
    while (count < max && fscanf(stream, "%23s %lf %lf", names[count],
                                 &cities[count].latitude_degrees,
                                 &cities[count].longitude_degrees) == 3) {
        cities[count].city = names[count];
        count++;
    }
    return count;
}

int main(int argc, char **argv)
{
    struct point hexagon[6];
    struct point origin = {0.0, 0.0};
    struct point start = {2.0, 0.0};
    struct geo_position cities[8];
    char names[8][24];

    /* Optional arguments: a scale for the hexagon and cube-root input, and a yearly rate. */
    double scale = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    double rate = argc > 2 ? strtod(argv[2], NULL) : 0.05;

    for (int i = 0; i < 6; i++)
        hexagon[i] = rotate_point(start, origin, i * PI / 3.0);
    printf("hexagon area=%.4f perimeter=%.4f\n", polygon_signed_area(hexagon, 6) * scale,
           polygon_perimeter(hexagon, 6) * scale);

    int city_count = read_city_positions(stdin, cities, names, 8);
    for (int i = 0; i + 1 < city_count; i++) {
        printf("%s -> %s: %.1f km, bearing %.1f degrees\n", cities[i].city, cities[i + 1].city,
               haversine_distance_km(&cities[i], &cities[i + 1]),
               initial_bearing_degrees(&cities[i], &cities[i + 1]));
    }

    printf("1000 at %.1f%% monthly for 10y=%.2f continuous=%.2f doubling=%.2fy\n", rate * 100.0,
           compound_interest(1000.0, rate, 12, 10.0), continuous_growth(1000.0, rate, 10.0),
           years_to_double(rate));
    printf("P(-1.96<Z<1.96)=%.5f integral of sin over [0,pi]=%.6f\n",
           simpson_integrate(gaussian_density, -1.96, 1.96, 200),
           simpson_integrate(sin, 0.0, PI, 100));
    printf("cbrt(%g)=%.9f cbrt(0.5)=%.9f\n", 2.0 * scale, newton_cube_root(2.0 * scale),
           newton_cube_root(0.5));
    return 0;
}
