#include <stdio.h>
#include <string.h>

#include "calc.h"

/* Formats value with up to 10 significant digits and no trailing zeros. */
static void format_number(double value, char *buffer, size_t capacity)
{
    snprintf(buffer, capacity, "%.10g", value);
    if (strcmp(buffer, "-0") == 0)
        snprintf(buffer, capacity, "0");
}

/* Parses and evaluates one line, printing the result or an error. Returns 0 on
   success, 1 for an empty line and -1 for an error. */
static int run_line(struct parser *parser, struct environment *env, const char *line,
                    int line_number)
{
    char text[64];
    double result;
    int root = parse_statement(parser, line);
    if (root < 0) {
        if (parser->error[0] == '\0')
            return 1;
        printf("%d: syntax error: %s\n", line_number, parser->error);
        return -1;
    }
    env->error[0] = '\0';
    if (evaluate_node(env, parser, root, &result) != 0) {
        printf("%d: error: %s\n", line_number, env->error);
        return -1;
    }
    format_number(result, text, sizeof text);
    if (parser->nodes[root].kind == NODE_ASSIGN)
        printf("%d: %s = %s\n", line_number, parser->nodes[root].name, text);
    else
        printf("%d: %s\n", line_number, text);
    return 0;
}

int main(void)
{
    static struct parser parser;
    static struct environment env;
    char line[256];
    int line_number = 0;
    int errors = 0;

    environment_init(&env);
    while (fgets(line, sizeof line, stdin) != NULL) {
        line_number++;
        if (run_line(&parser, &env, line, line_number) < 0)
            errors++;
    }
    printf("%d lines, %d errors, %d variables, %zu builtins\n", line_number, errors, env.count,
           builtin_count());
    return 0;
}
