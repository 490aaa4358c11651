package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DType;

/**
 * The tiles of the sparse linear layers: x packed transposed into panels {@code panel[panelOffset + column · T + t]}
 * (floats) of T tokens, so that each stored weight value is broadcast against T tokens at once; the inner loops of one
 * tile against a few weight rows, into {@code c[cOffset + row · T + t]}; and the results read back out token-major.
 *
 * <p>Every implementation sums each output element in one fixed order, the weight row's stored order (2:4: group by
 * group, position i0 then i1; CSR: entry by entry), with one fused multiply-add per product. So the scalar and the
 * Vector API kernels give the same bits, whatever the tile width, and no split of rows, tokens or groups over
 * threads changes a result. Packing and unpacking only move values.
 */
public interface SparseTiles {
    /** Weight rows one call takes at most. */
    int MAX_ROWS = 2;

    /** The tile width T this kernel wants for a call with {@code tokens} tokens; the panels are packed to it. */
    int tileTokens(int tokens);

    /**
     * Packs tile {@code tile} of x[tokens, in] (row-major, F32, F16 or BF16, at {@code byteOffset}) into
     * {@code panels} as {@link TokenPanels} lays them out, writing every float of the tile, padding included.
     */
    void pack(MemorySegment x, long byteOffset, DType dtype, int tokens, int in, int paddedIn, int tileTokens,
              int tile, MemorySegment panels);

    /**
     * Writes the float {@code c[cOffset + r · tileTokens + t]} at byte {@code byteOffset + 4 · (t · ld + r)} of
     * {@code into}, for {@code r < rows}, {@code t < tokens}: a tile's results token-major, as y stores them (straight
     * into an fp32 y when no epilogue follows, else a strip of tokens at a time into a heap scratch).
     */
    void unpack(float[] c, int cOffset, int tileTokens, int rows, int tokens, MemorySegment into, long byteOffset,
                long ld);

    /**
     * {@code c[r][t] +=} the kept products of row {@code row0 + r} in column block {@code block} (its
     * {@link TwoFourMatrix#BLOCK_GROUPS} groups), for {@code r < rows ≤ MAX_ROWS}; the caller zeroes c before the
     * first block.
     */
    void twoFour(TwoFourMatrix w, int row0, int rows, int block, MemorySegment panel, long panelOffset, int tileTokens,
                 float[] c, int cOffset);

    /** {@code c[r][t] += Σ} over the stored entries of row {@code row0 + r}, for {@code r < rows ≤ MAX_ROWS}. */
    void csr(CsrRows w, int row0, int rows, MemorySegment panel, long panelOffset, int tileTokens, float[] c,
             int cOffset);

    /**
     * The Vector API kernels where {@code vectorApi} is true (the caller has checked the module is present), else the
     * scalar ones. Only this method names the Vector API class, so a JVM without the module never loads it.
     */
    static SparseTiles select(boolean vectorApi) {
        return vectorApi ? VectorSparseTiles.create() : ScalarSparseTiles.INSTANCE;
    }
}
