#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calc.h"

void environment_init(struct environment *env)
{
    env->count = 0;
    env->error[0] = '\0';
}

static struct variable *find_variable(struct environment *env, const char *name)
{
    for (int i = 0; i < env->count; i++) {
        if (strcmp(env->variables[i].name, name) == 0)
            return &env->variables[i];
    }
    return NULL;
}

static int assign_variable(struct environment *env, const char *name, double value)
{
    struct variable *variable = find_variable(env, name);
    if (variable == NULL) {
        if (env->count == MAX_VARIABLES) {
            snprintf(env->error, sizeof env->error, "too many variables");
            return -1;
        }
        variable = &env->variables[env->count++];
        snprintf(variable->name, sizeof variable->name, "%s", name);
    }
    variable->value = value;
    return 0;
}

static int evaluate_call(struct environment *env, const struct parser *parser,
                         const struct ast_node *node, double *result)
{
    double args[MAX_CALL_ARGS];
    const struct builtin *builtin = find_builtin(node->name);
    if (builtin == NULL) {
        snprintf(env->error, sizeof env->error, "unknown function '%s'", node->name);
        return -1;
    }
    if (builtin->arity != node->arg_count) {
        snprintf(env->error, sizeof env->error, "'%s' takes %d argument(s), got %d", node->name,
                 builtin->arity, node->arg_count);
        return -1;
    }
    for (int i = 0; i < node->arg_count; i++) {
        if (evaluate_node(env, parser, node->args[i], &args[i]) != 0)
            return -1;
    }
    *result = builtin->function(args);
    return 0;
}

static int apply_binary_operator(struct environment *env, enum node_kind kind, double left,
                                 double right, double *result)
{
    switch (kind) {
    case NODE_ADD: *result = left + right; break;
    case NODE_SUBTRACT: *result = left - right; break;
    case NODE_MULTIPLY: *result = left * right; break;
    case NODE_DIVIDE:
    case NODE_MODULO:
        if (right == 0.0) {
            snprintf(env->error, sizeof env->error, "division by zero");
            return -1;
        }
        *result = kind == NODE_DIVIDE ? left / right : fmod(left, right);
        break;
    case NODE_POWER: *result = pow(left, right); break;
    case NODE_LESS: *result = left < right; break;
    case NODE_GREATER: *result = left > right; break;
    case NODE_EQUAL: *result = left == right; break;
    default:
        snprintf(env->error, sizeof env->error, "internal error: node kind %d", (int)kind);
        return -1;
    }
    return 0;
}

/* Evaluates the subtree rooted at index. Returns 0, or -1 with env->error set. */
int evaluate_node(struct environment *env, const struct parser *parser, int index, double *result)
{
    const struct ast_node *node = &parser->nodes[index];
    double left, right;

    if (is_binary_node(node->kind)) {
        if (evaluate_node(env, parser, node->left, &left) != 0 ||
            evaluate_node(env, parser, node->right, &right) != 0)
            return -1;
        return apply_binary_operator(env, node->kind, left, right, result);
    }
    switch (node->kind) {
    case NODE_NUMBER:
        *result = node->number;
        return 0;
    case NODE_VARIABLE: {
        const struct variable *variable = find_variable(env, node->name);
        if (variable == NULL) {
            snprintf(env->error, sizeof env->error, "undefined name '%s'", node->name);
            return -1;
        }
        *result = variable->value;
        return 0;
    }
    case NODE_NEGATE:
        if (evaluate_node(env, parser, node->left, &left) != 0)
            return -1;
        *result = -left;
        return 0;
    case NODE_CALL:
        return evaluate_call(env, parser, node, result);
    case NODE_ASSIGN:
        if (evaluate_node(env, parser, node->value, result) != 0)
            return -1;
        return assign_variable(env, node->name, *result);
    default:
        snprintf(env->error, sizeof env->error, "internal error: node kind %d", (int)node->kind);
        return -1;
    }
}
