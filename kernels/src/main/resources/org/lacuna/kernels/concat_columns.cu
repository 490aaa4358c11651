// y[r] = [a[r] | b[r]]: the columns of b after those of a, row by row, copied as raw bits (the skip connection of a
// U-Net). Elements are moved as unsigned integers of the storage width, so no value is rounded or canonicalised.
// lacuna-variants: WIDTH=4 | WIDTH=2
#ifndef WIDTH
#define WIDTH 4
#endif
#ifndef BLOCK
#define BLOCK 256
#endif

#if WIDTH == 4
typedef unsigned int Bits;
#else
typedef unsigned short Bits;
#endif

extern "C" __global__ void __launch_bounds__(BLOCK)
concat_columns(const Bits* __restrict__ a, const Bits* __restrict__ b, Bits* __restrict__ y, long long rows,
               long long aCols, long long bCols) {
    const long long cols = aCols + bCols;
    const long long total = rows * cols;
    const long long stride = (long long)gridDim.x * BLOCK;
    for (long long i = (long long)blockIdx.x * BLOCK + threadIdx.x; i < total; i += stride) {
        const long long r = i / cols;
        const long long c = i - r * cols;
        y[i] = c < aCols ? a[r * aCols + c] : b[r * bCols + (c - aCols)];
    }
}
