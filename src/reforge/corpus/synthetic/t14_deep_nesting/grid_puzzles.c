#include <stdio.h>
#include <string.h>

#define GRID_ROWS 8
#define GRID_COLS 10
#define LIFE_SIZE 10

static const char letter_grid[GRID_ROWS][GRID_COLS + 1] = {
    "CATSXQWERT",
    "OXDOGZPLKA",
    "DBIRDMNVCR",
    "EHORSEYUIG",
    "QWFISHTREE",
    "ZXCVBNMLKT",
    "PYTHONASDF",
    "GHJKLQWERT",
};

/* Searches all eight directions from every cell. Returns 1 and the start cell and
   direction of the first match, scanning rows top to bottom. */
static int find_word_in_grid(const char *word, int *found_row, int *found_col, int *found_dir)
{
    static const int row_steps[8] = {0, 1, 1, 1, 0, -1, -1, -1};
    static const int col_steps[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    int length = (int)strlen(word);

    for (int row = 0; row < GRID_ROWS; row++) {
        for (int col = 0; col < GRID_COLS; col++) {
            if (letter_grid[row][col] != word[0])
                continue;
            for (int dir = 0; dir < 8; dir++) {
                int matched = 1;
                for (int k = 1; k < length && matched; k++) {
                    int r = row + row_steps[dir] * k;
                    int c = col + col_steps[dir] * k;
                    if (r < 0 || r >= GRID_ROWS || c < 0 || c >= GRID_COLS) {
                        matched = 0;
                    } else {
                        if (letter_grid[r][c] != word[k])
                            matched = 0;
                    }
                }
                if (matched) {
                    *found_row = row;
                    *found_col = col;
                    *found_dir = dir;
                    return 1;
                }
            }
        }
    }
    return 0;
}

/* Checks rows, columns and 3x3 boxes of a 9x9 sudoku (0 = empty). Returns the
   number of rule violations, counting each repeated digit once per unit. */
static int count_sudoku_conflicts(const int board[9][9])
{
    int conflicts = 0;
    for (int unit_kind = 0; unit_kind < 3; unit_kind++) {
        for (int unit = 0; unit < 9; unit++) {
            int seen[10] = {0};
            for (int cell = 0; cell < 9; cell++) {
                int r, c;
                if (unit_kind == 0) {
                    r = unit;
                    c = cell;
                } else if (unit_kind == 1) {
                    r = cell;
                    c = unit;
                } else {
                    r = (unit / 3) * 3 + cell / 3;
                    c = (unit % 3) * 3 + cell % 3;
                }
                int digit = board[r][c];
                if (digit >= 1 && digit <= 9) {
                    if (seen[digit]++ == 1)
                        conflicts++;
                }
            }
        }
    }
    return conflicts;
}

/* Counts the candidate digits of every empty cell and returns how many empty
   cells have exactly one candidate. */
static int count_forced_cells(const int board[9][9])
{
    int forced = 0;
    for (int r = 0; r < 9; r++) {
        for (int c = 0; c < 9; c++) {
            if (board[r][c] != 0)
                continue;
            int candidates = 0;
            for (int digit = 1; digit <= 9; digit++) {
                int allowed = 1;
                for (int i = 0; i < 9 && allowed; i++) {
                    int box_r = (r / 3) * 3 + i / 3;
                    int box_c = (c / 3) * 3 + i % 3;
                    if (board[r][i] == digit || board[i][c] == digit) {
                        allowed = 0;
                    } else if (board[box_r][box_c] == digit) {
                        allowed = 0;
                    }
                }
                if (allowed)
                    candidates++;
            }
            if (candidates == 1)
                forced++;
        }
    }
    return forced;
}

static int count_live_neighbours(const unsigned char cells[LIFE_SIZE][LIFE_SIZE], int row, int col)
{
    int live = 0;
    for (int dr = -1; dr <= 1; dr++) {
        for (int dc = -1; dc <= 1; dc++) {
            if (dr == 0 && dc == 0)
                continue;
            int r = (row + dr + LIFE_SIZE) % LIFE_SIZE;
            int c = (col + dc + LIFE_SIZE) % LIFE_SIZE;
            live += cells[r][c];
        }
    }
    return live;
}

/* Advances Conway's Game of Life on a torus by generations steps. */
static void life_run(unsigned char cells[LIFE_SIZE][LIFE_SIZE], int generations)
{
    unsigned char next[LIFE_SIZE][LIFE_SIZE];
    for (int g = 0; g < generations; g++) {
        for (int r = 0; r < LIFE_SIZE; r++) {
            for (int c = 0; c < LIFE_SIZE; c++) {
                int live = count_live_neighbours(cells, r, c);
                next[r][c] = (unsigned char)(live == 3 || (live == 2 && cells[r][c]));
            }
        }
        memcpy(cells, next, sizeof next);
    }
}

static void print_life(const unsigned char cells[LIFE_SIZE][LIFE_SIZE])
{
    for (int r = 0; r < LIFE_SIZE; r++) {
        for (int c = 0; c < LIFE_SIZE; c++)
            putchar(cells[r][c] ? '#' : '.');
        putchar('\n');
    }
}

int main(void)
{
    static const char *const words[] = {"DOG", "BIRD", "TREE", "PYTHON",
                                        "CAT", "RAT",  "COD",  "ZEBRA"};
    static const char *const direction_names[8] = {"E", "SE", "S", "SW", "W", "NW", "N", "NE"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        int row, col, dir;
        if (find_word_in_grid(words[i], &row, &col, &dir))
            printf("%-6s at (%d,%d) going %s\n", words[i], row, col, direction_names[dir]);
        else
            printf("%-6s not found\n", words[i]);
    }

    int board[9][9] = {
        {5, 3, 0, 0, 7, 0, 0, 0, 0}, {6, 0, 0, 1, 9, 5, 0, 0, 0}, {0, 9, 8, 0, 0, 0, 0, 6, 0},
        {8, 0, 0, 0, 6, 0, 0, 0, 3}, {4, 0, 0, 8, 0, 3, 0, 0, 1}, {7, 0, 0, 0, 2, 0, 0, 0, 6},
        {0, 6, 0, 0, 0, 0, 2, 8, 0}, {0, 0, 0, 4, 1, 9, 0, 0, 5}, {0, 0, 0, 0, 8, 0, 0, 7, 9},
    };
    printf("sudoku: conflicts=%d forced cells=%d\n", count_sudoku_conflicts(board),
           count_forced_cells(board));
    board[0][2] = 5;
    printf("after bad move: conflicts=%d\n", count_sudoku_conflicts(board));

    unsigned char cells[LIFE_SIZE][LIFE_SIZE] = {{0}};
    cells[1][2] = cells[2][3] = cells[3][1] = cells[3][2] = cells[3][3] = 1; /* glider */
    life_run(cells, 8);
    print_life(cells);
    return 0;
}
