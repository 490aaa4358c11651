// What both sparse-convolution dataflows (sparseconv_gather_scatter.cu, sparseconv_implicit_gemm.cu) share in their
// fp32 path: a thread's register tile of the FMA GEMM over one K chunk in shared memory, and the walk over that
// tile's outputs.
#pragma once

// acc[i][j] += sum over k of a[k][row0 + i] * b[k][col0 + j], over the DEPTH-deep chunk in shared memory (a is
// stored transposed, so a thread reads along its rows): one thread's ROWS x COLS tile of outputs.
template <int ROWS, int COLS, int DEPTH, int A_WIDTH, int B_WIDTH>
__device__ __forceinline__ void fma_tile(float (&acc)[ROWS][COLS], const float (&a)[DEPTH][A_WIDTH],
                                         const float (&b)[DEPTH][B_WIDTH], int row0, int col0) {
#pragma unroll
    for (int k = 0; k < DEPTH; k++) {
        float av[ROWS];
        float bv[COLS];
#pragma unroll
        for (int i = 0; i < ROWS; i++) {
            av[i] = a[k][row0 + i];
        }
#pragma unroll
        for (int j = 0; j < COLS; j++) {
            bv[j] = b[k][col0 + j];
        }
#pragma unroll
        for (int i = 0; i < ROWS; i++) {
#pragma unroll
            for (int j = 0; j < COLS; j++) {
                acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
    }
}

// store(row, c, acc[i][j]) for each output of such a tile: output rows rows[i] (a negative row is none: skipped) and
// channels c0 + j below out.
template <int ROWS, int COLS, typename Store>
__device__ __forceinline__ void store_tile(const float (&acc)[ROWS][COLS], const int* rows, int c0, int out,
                                           Store store) {
#pragma unroll
    for (int i = 0; i < ROWS; i++) {
        const int row = rows[i];
        if (row < 0) {
            continue;
        }
#pragma unroll
        for (int j = 0; j < COLS; j++) {
            const int c = c0 + j;
            if (c < out) {
                store(row, c, acc[i][j]);
            }
        }
    }
}
