#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_HEADERS 8
#define FIELD_CAPACITY 64

enum parse_state {
    STATE_METHOD,
    STATE_TARGET,
    STATE_VERSION,
    STATE_REQUEST_LINE_LF,
    STATE_HEADER_START,
    STATE_HEADER_NAME,
    STATE_HEADER_VALUE_START,
    STATE_HEADER_VALUE,
    STATE_HEADER_LF,
    STATE_HEADERS_END_LF,
    STATE_BODY,
    STATE_DONE,
    STATE_ERROR
};

enum http_method {
    METHOD_UNKNOWN,
    METHOD_GET,
    METHOD_HEAD,
    METHOD_POST,
    METHOD_PUT,
    METHOD_DELETE
};

struct http_header {
    char name[FIELD_CAPACITY];
    char value[FIELD_CAPACITY];
};

struct http_request {
    enum parse_state state;
    enum http_method method;
    char method_text[16];
    char target[FIELD_CAPACITY];
    char version[16];
    struct http_header headers[MAX_HEADERS];
    int header_count;
    size_t field_length;
    long content_length;
    long body_received;
    const char *error;
};

static void httpRequestInit(struct http_request *request)
{
    memset(request, 0, sizeof *request);
    request->state = STATE_METHOD;
    request->content_length = 0;
}

/* Appends c to a fixed field, failing the request when the field is full. */
static int append_to_field(struct http_request *request, char *field, size_t capacity, char c)
{
    if (request->field_length + 1 >= capacity) {
        request->error = "field too long";
        request->state = STATE_ERROR;
        return -1;
    }
    field[request->field_length++] = c;
    field[request->field_length] = '\0';
    return 0;
}

static enum http_method parseHTTPMethod(const char *text)
{
    static const struct {
        const char *text;
        enum http_method method;
    } known[] = {
        {"GET", METHOD_GET}, {"HEAD", METHOD_HEAD}, {"POST", METHOD_POST},
        {"PUT", METHOD_PUT}, {"DELETE", METHOD_DELETE},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(known[i].text, text) == 0)
            return known[i].method;
    }
    return METHOD_UNKNOWN;
}

static int header_name_equals(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    }
    return *a == *b;
}

static const char *getHeaderValue(const struct http_request *request, const char *name)
{
    for (int i = 0; i < request->header_count; i++) {
        if (header_name_equals(request->headers[i].name, name))
            return request->headers[i].value;
    }
    return NULL;
}

static void fail_request(struct http_request *request, const char *reason)
{
    request->error = reason;
    request->state = STATE_ERROR;
}

/* Called when a header line is complete: trims the value and interprets
   Content-Length. */
static void finish_header(struct http_request *request)
{
    struct http_header *header = &request->headers[request->header_count];
    size_t length = strlen(header->value);
    while (length > 0 && header->value[length - 1] == ' ')
        header->value[--length] = '\0';
    if (header_name_equals(header->name, "content-length")) {
        long value = 0;
        for (const char *p = header->value; *p != '\0'; p++) {
            if (!isdigit((unsigned char)*p)) {
                fail_request(request, "invalid content length");
                return;
            }
            value = value * 10 + (*p - '0');
        }
        request->content_length = value;
    }
    request->header_count++;
}

/* Advances the parser by one byte. */
static void http_parser_feed_byte(struct http_request *request, char c)
{
    struct http_header *header = &request->headers[request->header_count];
    switch (request->state) {
    case STATE_METHOD:
        if (c == ' ') {
            request->method = parseHTTPMethod(request->method_text);
            request->field_length = 0;
            request->state = request->method != METHOD_UNKNOWN ? STATE_TARGET : STATE_ERROR;
            if (request->method == METHOD_UNKNOWN)
                request->error = "unknown method";
        } else if (isupper((unsigned char)c)) {
            append_to_field(request, request->method_text, sizeof request->method_text, c);
        } else {
            fail_request(request, "invalid method character");
        }
        break;
    case STATE_TARGET:
        if (c == ' ') {
            request->field_length = 0;
            request->state = STATE_VERSION;
        } else {
            append_to_field(request, request->target, sizeof request->target, c);
        }
        break;
    case STATE_VERSION:
        if (c == '\r')
            request->state = STATE_REQUEST_LINE_LF;
        else
            append_to_field(request, request->version, sizeof request->version, c);
        break;
    case STATE_REQUEST_LINE_LF:
    case STATE_HEADER_LF:
        if (c != '\n')
            fail_request(request, "expected line feed");
        else
            request->state = STATE_HEADER_START;
        break;
    case STATE_HEADER_START:
        if (c == '\r') {
            request->state = STATE_HEADERS_END_LF;
            break;
        }
        if (request->header_count == MAX_HEADERS) {
            fail_request(request, "too many headers");
            break;
        }
        request->field_length = 0;
        request->state = STATE_HEADER_NAME;
        append_to_field(request, header->name, sizeof header->name, c);
        break;
    case STATE_HEADER_NAME:
        if (c == ':') {
            request->field_length = 0;
            request->state = STATE_HEADER_VALUE_START;
        } else if (isalnum((unsigned char)c) || c == '-') {
            append_to_field(request, header->name, sizeof header->name, c);
        } else {
            fail_request(request, "invalid header name");
        }
        break;
    case STATE_HEADER_VALUE_START:
        if (c == ' ')
            break;
        request->state = STATE_HEADER_VALUE;
        if (c == '\r') {
            finish_header(request);
            if (request->state != STATE_ERROR)
                request->state = STATE_HEADER_LF;
            break;
        }
        append_to_field(request, header->value, sizeof header->value, c);
        break;
    case STATE_HEADER_VALUE:
        if (c == '\r') {
            finish_header(request);
            if (request->state != STATE_ERROR)
                request->state = STATE_HEADER_LF;
        } else {
            append_to_field(request, header->value, sizeof header->value, c);
        }
        break;
    case STATE_HEADERS_END_LF:
        if (c != '\n')
            fail_request(request, "expected line feed");
        else
            request->state = request->content_length > 0 ? STATE_BODY : STATE_DONE;
        break;
    case STATE_BODY:
        if (++request->body_received == request->content_length)
            request->state = STATE_DONE;
        break;
    case STATE_DONE:
        fail_request(request, "data after end of request");
        break;
    case STATE_ERROR:
        break;
    }
}

/* Feeds a whole buffer. Returns the final state. */
static enum parse_state http_parser_feed(struct http_request *request, const char *data,
                                         size_t length)
{
    for (size_t i = 0; i < length && request->state != STATE_ERROR; i++)
        http_parser_feed_byte(request, data[i]);
    return request->state;
}

static void print_request_summary(const struct http_request *request)
{
    if (request->state == STATE_ERROR) {
        printf("rejected: %s\n", request->error);
        return;
    }
    if (request->state != STATE_DONE) {
        printf("incomplete (state %d)\n", (int)request->state);
        return;
    }
    const char *host = getHeaderValue(request, "Host");
    printf("%s %s %s host=%s headers=%d body=%ld\n", request->method_text, request->target,
           request->version, host != NULL ? host : "-", request->header_count,
           request->body_received);
}

int main(void)
{
    static const char *const requests[] = {
        "GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n",
        "POST /api/items HTTP/1.1\r\nHost: api.example.org\r\nContent-Length: 11\r\n"
        "Content-Type: text/plain\r\n\r\nhello world",
        "BREW /pot HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\nBad Header: x\r\n\r\n",
        "PUT /upload HTTP/1.1\r\nContent-Length: 20\r\n\r\npartial",
    };
    struct http_request request;
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        httpRequestInit(&request);
        /* Split each request in two chunks to exercise resumable parsing. */
        size_t length = strlen(requests[i]);
        http_parser_feed(&request, requests[i], length / 2);
        http_parser_feed(&request, requests[i] + length / 2, length - length / 2);
        print_request_summary(&request);
    }
    return 0;
}
