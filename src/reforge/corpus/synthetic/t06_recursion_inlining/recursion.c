#include <stdio.h>
#include <stdlib.h>

struct tree_node {
    int key;
    struct tree_node *left;
    struct tree_node *right;
};

/* Three-way integer comparison. Called directly by the tree code and also
   passed to qsort, so an optimizing build keeps an out-of-line copy. */
static int compare_ints(const void *a, const void *b)
{
    int left = *(const int *)a;
    int right = *(const int *)b;
    return (left > right) - (left < right);
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static struct tree_node *new_tree_node(int key)
{
    struct tree_node *node = malloc(sizeof *node);
    if (node == NULL)
        return NULL;
    node->key = key;
    node->left = NULL;
    node->right = NULL;
    return node;
}

/* Inserts key unless present. Returns the (possibly new) subtree root. */
static struct tree_node *bst_insert(struct tree_node *node, int key)
{
    if (node == NULL)
        return new_tree_node(key);
    int order = compare_ints(&key, &node->key);
    if (order < 0)
        node->left = bst_insert(node->left, key);
    else if (order > 0)
        node->right = bst_insert(node->right, key);
    return node;
}

/* Tail-recursive search. */
static int bst_contains(const struct tree_node *node, int key)
{
    if (node == NULL)
        return 0;
    int order = compare_ints(&key, &node->key);
    if (order == 0)
        return 1;
    return bst_contains(order < 0 ? node->left : node->right, key);
}

static int bst_height(const struct tree_node *node)
{
    if (node == NULL)
        return 0;
    return 1 + max_int(bst_height(node->left), bst_height(node->right));
}

static int bst_count_leaves(const struct tree_node *node)
{
    if (node == NULL)
        return 0;
    if (node->left == NULL && node->right == NULL)
        return 1;
    return bst_count_leaves(node->left) + bst_count_leaves(node->right);
}

static long bst_sum_in_range(const struct tree_node *node, int low, int high)
{
    if (node == NULL)
        return 0;
    if (node->key < low)
        return bst_sum_in_range(node->right, low, high);
    if (node->key > high)
        return bst_sum_in_range(node->left, low, high);
    return node->key + bst_sum_in_range(node->left, low, high) +
           bst_sum_in_range(node->right, low, high);
}

static void bst_free(struct tree_node *node)
{
    if (node == NULL)
        return;
    bst_free(node->left);
    bst_free(node->right);
    free(node);
}

/* Builds a height-balanced tree from keys[low..high], which must be sorted. */
static struct tree_node *build_balanced_bst(const int *keys, int low, int high)
{
    if (low > high)
        return NULL;
    int middle = low + (high - low) / 2;
    struct tree_node *node = new_tree_node(keys[middle]);
    if (node == NULL)
        return NULL;
    node->left = build_balanced_bst(keys, low, middle - 1);
    node->right = build_balanced_bst(keys, middle + 1, high);
    return node;
}

static void print_in_order(const struct tree_node *node)
{
    if (node == NULL)
        return;
    print_in_order(node->left);
    printf(" %d", node->key);
    print_in_order(node->right);
}

/* Euclid's algorithm in tail-recursive form. */
static unsigned gcd_euclid(unsigned a, unsigned b)
{
    return b == 0 ? a : gcd_euclid(b, a % b);
}

/* Computes base^exponent mod modulus by recursive squaring. */
static unsigned long power_mod(unsigned long base, unsigned exponent, unsigned long modulus)
{
    if (exponent == 0)
        return 1 % modulus;
    unsigned long half = power_mod(base, exponent / 2, modulus);
    unsigned long square = half * half % modulus;
    return (exponent & 1) ? square * (base % modulus) % modulus : square;
}

/* Mutually recursive parity test; both calls are tail calls. */
static int is_odd(unsigned n);

static int is_even(unsigned n)
{
    return n == 0 ? 1 : is_odd(n - 1);
}

static int is_odd(unsigned n)
{
    return n == 0 ? 0 : is_even(n - 1);
}

int main(void)
{
    int keys[] = {50, 30, 70, 20, 40, 60, 80, 35, 45, 65, 30, 10, 90, 55};
    int count = (int)(sizeof keys / sizeof keys[0]);
    struct tree_node *root = NULL;

    for (int i = 0; i < count; i++)
        root = bst_insert(root, keys[i]);
    printf("unbalanced: height=%d leaves=%d sum[35,65]=%ld contains(45)=%d contains(47)=%d\n",
           bst_height(root), bst_count_leaves(root), bst_sum_in_range(root, 35, 65),
           bst_contains(root, 45), bst_contains(root, 47));

    qsort(keys, (size_t)count, sizeof keys[0], compare_ints);
    struct tree_node *balanced = build_balanced_bst(keys, 0, count - 1);
    printf("balanced: height=%d leaves=%d keys:", bst_height(balanced),
           bst_count_leaves(balanced));
    print_in_order(balanced);
    printf("\n");

    printf("gcd(1071, 462)=%u gcd(17, 5)=%u\n", gcd_euclid(1071, 462), gcd_euclid(17, 5));
    printf("3^200 mod 1000007=%lu 2^62 mod 97=%lu\n", power_mod(3, 200, 1000007),
           power_mod(2, 62, 97));
    printf("parity: 10 even=%d, 7 odd=%d, 1001 even=%d\n", is_even(10), is_odd(7), is_even(1001));

    bst_free(root);
    bst_free(balanced);
    return 0;
}
