#ifndef CALC_H
#define CALC_H

#include <ctype.h>
#include <stddef.h>

#define CALC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_CAPACITY 32
#define ERROR_CAPACITY 80
#define MAX_CALL_ARGS 3
#define NODE_POOL_SIZE 128
#define MAX_VARIABLES 16

enum token_kind {
    TOKEN_END, TOKEN_NUMBER, TOKEN_IDENTIFIER, TOKEN_PLUS, TOKEN_MINUS, TOKEN_STAR, TOKEN_SLASH,
    TOKEN_PERCENT, TOKEN_CARET, TOKEN_LPAREN, TOKEN_RPAREN, TOKEN_COMMA, TOKEN_ASSIGN,
    TOKEN_LESS, TOKEN_GREATER, TOKEN_EQUAL_EQUAL, TOKEN_ERROR
};

struct token {
    enum token_kind kind;
    double number;
    char text[NAME_CAPACITY];
    size_t position;
};

struct lexer {
    const char *source;
    size_t position;
    char error[ERROR_CAPACITY];
};

enum node_kind {
    NODE_NUMBER, NODE_VARIABLE, NODE_NEGATE, NODE_ADD, NODE_SUBTRACT, NODE_MULTIPLY,
    NODE_DIVIDE, NODE_MODULO, NODE_POWER, NODE_LESS, NODE_GREATER, NODE_EQUAL, NODE_CALL,
    NODE_ASSIGN
};

/* Children are indices into the parser's node pool. */
struct ast_node {
    enum node_kind kind;
    union {
        double number;
        struct {
            int left;
            int right;
        };
        struct {
            char name[NAME_CAPACITY];
            int args[MAX_CALL_ARGS];
            int arg_count;
            int value; /* assigned expression for NODE_ASSIGN */
        };
    };
};

struct parser {
    struct lexer lexer;
    struct token current;
    struct ast_node nodes[NODE_POOL_SIZE];
    int node_count;
    char error[ERROR_CAPACITY];
};

struct variable {
    char name[NAME_CAPACITY];
    double value;
};

struct environment {
    struct variable variables[MAX_VARIABLES];
    int count;
    char error[ERROR_CAPACITY];
};

typedef double (*builtin_fn)(const double *args);

struct builtin {
    const char *name;
    int arity;
    builtin_fn function;
};

static inline int is_identifier_start(int c)
{
    return isalpha(c) || c == '_';
}

static inline int is_identifier_char(int c)
{
    return isalnum(c) || c == '_';
}

static inline int is_binary_node(enum node_kind kind)
{
    return kind >= NODE_ADD && kind <= NODE_EQUAL;
}

/* lexer.c */
void lexer_init(struct lexer *lexer, const char *source);
enum token_kind lexer_next_token(struct lexer *lexer, struct token *out);

/* parser.c */
int parse_statement(struct parser *parser, const char *source);

/* builtins.c */
const struct builtin *find_builtin(const char *name);
size_t builtin_count(void);

/* eval.c */
void environment_init(struct environment *env);
int evaluate_node(struct environment *env, const struct parser *parser, int index, double *result);

#endif
