#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"

enum lexer_state { LEX_START, LEX_INTEGER, LEX_FRACTION, LEX_EXPONENT_SIGN, LEX_EXPONENT,
                   LEX_IDENTIFIER, LEX_DONE };

static void set_error(struct lexer *lexer, const char *reason)
{
    snprintf(lexer->error, sizeof lexer->error, "%s at column %zu", reason, lexer->position + 1);
}

void lexer_init(struct lexer *lexer, const char *source)
{
    lexer->source = source;
    lexer->position = 0;
    lexer->error[0] = '\0';
}

static enum token_kind classify_operator(char c, char next, int *length)
{
    *length = 1;
    switch (c) {
    case '+': return TOKEN_PLUS;
    case '-': return TOKEN_MINUS;
    case '*': return TOKEN_STAR;
    case '/': return TOKEN_SLASH;
    case '%': return TOKEN_PERCENT;
    case '^': return TOKEN_CARET;
    case '(': return TOKEN_LPAREN;
    case ')': return TOKEN_RPAREN;
    case ',': return TOKEN_COMMA;
    case '<': return TOKEN_LESS;
    case '>': return TOKEN_GREATER;
    case '=':
        if (next == '=') {
            *length = 2;
            return TOKEN_EQUAL_EQUAL;
        }
        return TOKEN_ASSIGN;
    default: return TOKEN_ERROR;
    }
}

/* Scans a number or identifier with a character-level state machine. */
static enum token_kind scan_word(struct lexer *lexer, struct token *out)
{
    const char *s = lexer->source;
    size_t start = lexer->position;
    size_t p = start;
    enum lexer_state state =
        is_identifier_start((unsigned char)s[p]) ? LEX_IDENTIFIER : LEX_INTEGER;

    while (state != LEX_DONE) {
        unsigned char c = (unsigned char)s[p];
        switch (state) {
        case LEX_INTEGER:
        case LEX_FRACTION:
            if (isdigit(c))
                p++;
            else if (c == '.' && state == LEX_INTEGER)
                state = LEX_FRACTION, p++;
            else if (c == 'e' || c == 'E')
                state = LEX_EXPONENT_SIGN, p++;
            else
                state = LEX_DONE;
            break;
        case LEX_EXPONENT_SIGN:
            if (c == '+' || c == '-')
                p++;
            state = LEX_EXPONENT;
            break;
        case LEX_EXPONENT:
            if (isdigit(c))
                p++;
            else
                state = LEX_DONE;
            break;
        case LEX_IDENTIFIER:
            if (is_identifier_char(c))
                p++;
            else
                state = LEX_DONE;
            break;
        case LEX_START:
        case LEX_DONE:
            state = LEX_DONE;
            break;
        }
    }

    size_t length = p - start;
    lexer->position = p;
    if (length >= sizeof out->text) {
        set_error(lexer, "token too long");
        return TOKEN_ERROR;
    }
    memcpy(out->text, s + start, length);
    out->text[length] = '\0';
    if (is_identifier_start((unsigned char)s[start]))
        return TOKEN_IDENTIFIER;
    out->number = strtod(out->text, NULL);
    return TOKEN_NUMBER;
}

enum token_kind lexer_next_token(struct lexer *lexer, struct token *out)
{
    const char *s = lexer->source;
    while (s[lexer->position] == ' ' || s[lexer->position] == '\t')
        lexer->position++;
    out->position = lexer->position;
    out->text[0] = '\0';

    unsigned char c = (unsigned char)s[lexer->position];
    if (c == '\0' || c == '\n' || c == '#')
        out->kind = TOKEN_END;
    else if (isdigit(c) || c == '.' || is_identifier_start(c))
        out->kind = scan_word(lexer, out);
    else {
        int length;
        out->kind = classify_operator((char)c, s[lexer->position + 1], &length);
        if (out->kind == TOKEN_ERROR)
            set_error(lexer, "unexpected character");
        else
            lexer->position += (size_t)length;
    }
    return out->kind;
}
