#include <stdio.h>
#include <string.h>

#define STACK_CAPACITY 64
#define PROGRAM_CAPACITY 128
#define STEP_LIMIT 10000

enum opcode {
    OP_HALT,
    OP_PUSH,
    OP_POP,
    OP_DUP,
    OP_SWAP,
    OP_OVER,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_NEG,
    OP_LESS,
    OP_EQUAL,
    OP_JUMP,
    OP_JUMP_IF_ZERO,
    OP_PRINT,
    OP_COUNT
};

enum vm_status { VM_OK, VM_HALTED, VM_STACK_UNDERFLOW, VM_STACK_OVERFLOW, VM_DIVIDE_BY_ZERO,
                 VM_BAD_OPCODE, VM_BAD_JUMP, VM_STEP_LIMIT };

struct instruction {
    enum opcode op;
    long operand;
};

struct vm {
    long stack[STACK_CAPACITY];
    int depth;
    int pc;
    long steps;
};

static const char *const mnemonics[OP_COUNT] = {
    "halt", "push", "pop", "dup", "swap", "over", "add", "sub", "mul",
    "div", "mod", "neg", "less", "equal", "jump", "jz", "print",
};

static int opcode_has_operand(enum opcode op)
{
    switch (op) {
    case OP_PUSH:
    case OP_JUMP:
    case OP_JUMP_IF_ZERO:
        return 1;
    default:
        return 0;
    }
}

/* Number of stack slots an opcode pops before it runs. */
static int opcode_stack_inputs(enum opcode op)
{
    switch (op) {
    case OP_HALT:
    case OP_PUSH:
    case OP_JUMP:
        return 0;
    case OP_POP:
    case OP_DUP:
    case OP_NEG:
    case OP_JUMP_IF_ZERO:
    case OP_PRINT:
        return 1;
    case OP_SWAP:
    case OP_OVER:
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_LESS:
    case OP_EQUAL:
        return 2;
    default:
        return -1;
    }
}

static const char *vm_status_text(enum vm_status status)
{
    switch (status) {
    case VM_OK: return "ok";
    case VM_HALTED: return "halted";
    case VM_STACK_UNDERFLOW: return "stack underflow";
    case VM_STACK_OVERFLOW: return "stack overflow";
    case VM_DIVIDE_BY_ZERO: return "division by zero";
    case VM_BAD_OPCODE: return "invalid opcode";
    case VM_BAD_JUMP: return "jump target out of range";
    case VM_STEP_LIMIT: return "step limit reached";
    }
    return "unknown status";
}

/* Translates "mnemonic [operand]" into an instruction. Returns 0 on success. */
static int assemble_line(const char *line, struct instruction *out)
{
    char mnemonic[16];
    long operand = 0;
    int fields = sscanf(line, "%15s %ld", mnemonic, &operand);
    if (fields < 1)
        return -1;
    for (int op = 0; op < OP_COUNT; op++) {
        if (strcmp(mnemonics[op], mnemonic) == 0) {
            if (opcode_has_operand((enum opcode)op) != (fields == 2))
                return -1;
            out->op = (enum opcode)op;
            out->operand = operand;
            return 0;
        }
    }
    return -1;
}

/* Assembles a ';'-separated program. Returns the instruction count or -1. */
static int assemble_program(const char *source, struct instruction *program, int capacity)
{
    char line[64];
    int count = 0;
    while (*source != '\0') {
        size_t length = strcspn(source, ";");
        if (length >= sizeof line || count == capacity)
            return -1;
        memcpy(line, source, length);
        line[length] = '\0';
        if (assemble_line(line, &program[count++]) != 0)
            return -1;
        source += length;
        if (*source == ';')
            source++;
    }
    return count;
}

static void disassemble_program(const struct instruction *program, int count)
{
    for (int i = 0; i < count; i++) {
        if (opcode_has_operand(program[i].op))
            printf("%3d  %-6s %ld\n", i, mnemonics[program[i].op], program[i].operand);
        else
            printf("%3d  %s\n", i, mnemonics[program[i].op]);
    }
}

static enum vm_status vm_step(struct vm *vm, const struct instruction *program, int count)
{
    const struct instruction *insn = &program[vm->pc++];
    int inputs = opcode_stack_inputs(insn->op);
    /* top points one past the top of the stack, so top[-1] is the top value. */
    long *top = vm->stack + vm->depth;

    if (inputs < 0)
        return VM_BAD_OPCODE;
    if (vm->depth < inputs)
        return VM_STACK_UNDERFLOW;
    switch (insn->op) {
    case OP_HALT:
        return VM_HALTED;
    case OP_PUSH:
        if (vm->depth == STACK_CAPACITY)
            return VM_STACK_OVERFLOW;
        vm->stack[vm->depth++] = insn->operand;
        break;
    case OP_POP:
        vm->depth--;
        break;
    case OP_DUP:
        if (vm->depth == STACK_CAPACITY)
            return VM_STACK_OVERFLOW;
        vm->stack[vm->depth++] = top[-1];
        break;
    case OP_SWAP: {
        long saved = top[-1];
        top[-1] = top[-2];
        top[-2] = saved;
        break;
    }
    case OP_OVER:
        if (vm->depth == STACK_CAPACITY)
            return VM_STACK_OVERFLOW;
        vm->stack[vm->depth++] = top[-2];
        break;
    case OP_ADD:
        top[-2] += top[-1];
        vm->depth--;
        break;
    case OP_SUB:
        top[-2] -= top[-1];
        vm->depth--;
        break;
    case OP_MUL:
        top[-2] *= top[-1];
        vm->depth--;
        break;
    case OP_DIV:
        if (top[-1] == 0)
            return VM_DIVIDE_BY_ZERO;
        top[-2] /= top[-1];
        vm->depth--;
        break;
    case OP_MOD:
        if (top[-1] == 0)
            return VM_DIVIDE_BY_ZERO;
        top[-2] %= top[-1];
        vm->depth--;
        break;
    case OP_NEG:
        top[-1] = -top[-1];
        break;
    case OP_LESS:
        top[-2] = top[-2] < top[-1];
        vm->depth--;
        break;
    case OP_EQUAL:
        top[-2] = top[-2] == top[-1];
        vm->depth--;
        break;
    case OP_JUMP:
        if (insn->operand < 0 || insn->operand >= count)
            return VM_BAD_JUMP;
        vm->pc = (int)insn->operand;
        break;
    case OP_JUMP_IF_ZERO:
        if (insn->operand < 0 || insn->operand >= count)
            return VM_BAD_JUMP;
        if (top[-1] == 0)
            vm->pc = (int)insn->operand;
        vm->depth--;
        break;
    case OP_PRINT:
        printf("%ld\n", top[-1]);
        vm->depth--;
        break;
    default:
        return VM_BAD_OPCODE;
    }
    return VM_OK;
}

static enum vm_status vm_run(struct vm *vm, const struct instruction *program, int count)
{
    memset(vm, 0, sizeof *vm);
    while (vm->pc < count) {
        enum vm_status status = vm_step(vm, program, count);
        if (status != VM_OK)
            return status;
        if (++vm->steps > STEP_LIMIT)
            return VM_STEP_LIMIT;
    }
    return VM_HALTED;
}

static void assemble_and_run(const char *title, const char *source, int show_listing)
{
    struct instruction program[PROGRAM_CAPACITY];
    struct vm vm;
    int count = assemble_program(source, program, PROGRAM_CAPACITY);
    printf("== %s\n", title);
    if (count < 0) {
        printf("assembly failed\n");
        return;
    }
    if (show_listing)
        disassemble_program(program, count);
    enum vm_status status = vm_run(&vm, program, count);
    printf("-> %s after %ld steps, depth %d\n", vm_status_text(status), vm.steps, vm.depth);
}

int main(void)
{
    /* 10! computed with a counter n and an accumulator: acc n -> acc*n n-1 until n == 0. */
    assemble_and_run("factorial of 10",
                     "push 1;push 10;"
                     "dup;jz 12;"
                     "swap;over;mul;swap;push 1;neg;add;jump 2;"
                     "pop;print;halt",
                     1);
    assemble_and_run("remainders", "push 100;push 7;mod;print;push 5;push 0;div;print", 0);
    assemble_and_run("underflow", "push 1;add", 0);
    assemble_and_run("typo", "push 1;pusj 2", 0);
    return 0;
}
