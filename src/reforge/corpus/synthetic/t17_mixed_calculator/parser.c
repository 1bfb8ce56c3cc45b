#include <stdio.h>
#include <string.h>

#include "calc.h"

/* Grammar, lowest precedence first:
     statement  := IDENT '=' statement | comparison
     comparison := sum (('<' | '>' | '==') sum)?
     sum        := product (('+' | '-') product)*
     product    := unary (('*' | '/' | '%') unary)*
     unary      := '-' unary | power
     power      := primary ('^' unary)?          (right associative)
     primary    := NUMBER | IDENT | IDENT '(' args ')' | '(' statement ')' */

static int parse_assignment(struct parser *parser);
static int parse_unary(struct parser *parser);

static void set_error(struct parser *parser, const char *reason)
{
    if (parser->error[0] == '\0')
        snprintf(parser->error, sizeof parser->error, "%s near column %zu", reason,
                 parser->current.position + 1);
}

static void advance_token(struct parser *parser)
{
    /* The lexer message already names its column, so it is copied unchanged. */
    if (lexer_next_token(&parser->lexer, &parser->current) == TOKEN_ERROR &&
        parser->error[0] == '\0')
        memcpy(parser->error, parser->lexer.error, sizeof parser->error);
}

static int expect_token(struct parser *parser, enum token_kind kind, const char *reason)
{
    if (parser->current.kind != kind) {
        set_error(parser, reason);
        return -1;
    }
    advance_token(parser);
    return 0;
}

static int allocate_node(struct parser *parser, enum node_kind kind)
{
    if (parser->node_count == NODE_POOL_SIZE) {
        set_error(parser, "expression too large");
        return -1;
    }
    int index = parser->node_count++;
    memset(&parser->nodes[index], 0, sizeof parser->nodes[index]);
    parser->nodes[index].kind = kind;
    return index;
}

static int make_binary_node(struct parser *parser, enum node_kind kind, int left, int right)
{
    if (left < 0 || right < 0)
        return -1;
    int index = allocate_node(parser, kind);
    if (index >= 0) {
        parser->nodes[index].left = left;
        parser->nodes[index].right = right;
    }
    return index;
}

static int parse_call_arguments(struct parser *parser, int call)
{
    advance_token(parser); /* '(' */
    if (parser->current.kind == TOKEN_RPAREN) {
        advance_token(parser);
        return call;
    }
    for (;;) {
        int argument = parse_assignment(parser);
        if (argument < 0)
            return -1;
        if (parser->nodes[call].arg_count == MAX_CALL_ARGS) {
            set_error(parser, "too many arguments");
            return -1;
        }
        parser->nodes[call].args[parser->nodes[call].arg_count++] = argument;
        if (parser->current.kind != TOKEN_COMMA)
            break;
        advance_token(parser);
    }
    return expect_token(parser, TOKEN_RPAREN, "expected ')'") == 0 ? call : -1;
}

static int parse_primary(struct parser *parser)
{
    struct token token = parser->current;
    if (token.kind == TOKEN_NUMBER) {
        int index = allocate_node(parser, NODE_NUMBER);
        advance_token(parser);
        if (index >= 0)
            parser->nodes[index].number = token.number;
        return index;
    }
    if (token.kind == TOKEN_IDENTIFIER) {
        advance_token(parser);
        int is_call = parser->current.kind == TOKEN_LPAREN;
        int index = allocate_node(parser, is_call ? NODE_CALL : NODE_VARIABLE);
        if (index < 0)
            return -1;
        memcpy(parser->nodes[index].name, token.text, sizeof token.text);
        return is_call ? parse_call_arguments(parser, index) : index;
    }
    if (token.kind == TOKEN_LPAREN) {
        advance_token(parser);
        int inner = parse_assignment(parser);
        if (inner < 0 || expect_token(parser, TOKEN_RPAREN, "expected ')'") != 0)
            return -1;
        return inner;
    }
    set_error(parser, "expected a number, name or '('");
    return -1;
}

static int parse_power(struct parser *parser)
{
    int base = parse_primary(parser);
    if (base < 0 || parser->current.kind != TOKEN_CARET)
        return base;
    advance_token(parser);
    return make_binary_node(parser, NODE_POWER, base, parse_unary(parser));
}

static int parse_unary(struct parser *parser)
{
    if (parser->current.kind != TOKEN_MINUS)
        return parse_power(parser);
    advance_token(parser);
    int operand = parse_unary(parser);
    int index = operand >= 0 ? allocate_node(parser, NODE_NEGATE) : -1;
    if (index >= 0)
        parser->nodes[index].left = operand;
    return index;
}

static int parse_product(struct parser *parser)
{
    int left = parse_unary(parser);
    for (;;) {
        enum node_kind kind;
        switch (parser->current.kind) {
        case TOKEN_STAR: kind = NODE_MULTIPLY; break;
        case TOKEN_SLASH: kind = NODE_DIVIDE; break;
        case TOKEN_PERCENT: kind = NODE_MODULO; break;
        default: return left;
        }
        advance_token(parser);
        left = make_binary_node(parser, kind, left, parse_unary(parser));
    }
}

static int parse_sum(struct parser *parser)
{
    int left = parse_product(parser);
    while (parser->current.kind == TOKEN_PLUS || parser->current.kind == TOKEN_MINUS) {
        enum node_kind kind = parser->current.kind == TOKEN_PLUS ? NODE_ADD : NODE_SUBTRACT;
        advance_token(parser);
        left = make_binary_node(parser, kind, left, parse_product(parser));
    }
    return left;
}

static int parse_comparison(struct parser *parser)
{
    int left = parse_sum(parser);
    enum node_kind kind;
    switch (parser->current.kind) {
    case TOKEN_LESS: kind = NODE_LESS; break;
    case TOKEN_GREATER: kind = NODE_GREATER; break;
    case TOKEN_EQUAL_EQUAL: kind = NODE_EQUAL; break;
    default: return left;
    }
    advance_token(parser);
    return make_binary_node(parser, kind, left, parse_sum(parser));
}

static int parse_assignment(struct parser *parser)
{
    int target = parse_comparison(parser);
    if (target < 0 || parser->current.kind != TOKEN_ASSIGN)
        return target;
    if (parser->nodes[target].kind != NODE_VARIABLE) {
        set_error(parser, "can only assign to a name");
        return -1;
    }
    advance_token(parser);
    int value = parse_assignment(parser);
    if (value < 0)
        return -1;
    parser->nodes[target].kind = NODE_ASSIGN;
    parser->nodes[target].value = value;
    return target;
}

/* Parses one line into the node pool. Returns the root index, or -1 with
   parser->error set. An empty line yields -1 with an empty error. */
int parse_statement(struct parser *parser, const char *source)
{
    parser->node_count = 0;
    parser->error[0] = '\0';
    lexer_init(&parser->lexer, source);
    advance_token(parser);
    if (parser->current.kind == TOKEN_END)
        return -1;
    int root = parse_assignment(parser);
    if (root >= 0 && parser->current.kind != TOKEN_END) {
        set_error(parser, "unexpected input after expression");
        return -1;
    }
    return parser->error[0] == '\0' ? root : -1;
}
