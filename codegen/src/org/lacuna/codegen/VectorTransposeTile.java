package org.lacuna.codegen;

/**
 * A 16 × 16 fp32 transpose in registers ({@code org.lacuna.runtime.cpu.kernels.VectorTransposeTile}), which the
 * sparse tiles use to pack x into token panels and to write their token-vector results into y token-major.
 *
 * <p>Sixteen 512-bit vectors (the block's rows) go through four butterfly stages, at distances 1, 2, 4 and 8 lanes:
 * a stage pairs rows i and i + d and swaps their off-diagonal d × d sub-blocks, each new row being one single-source
 * lane permutation (lane l takes lane l ^ d) blended with the partner row. After the four stages row i holds column
 * i. Only single-vector {@code rearrange} and {@code blend} with constant shuffles and masks are used: on JDK 25 they
 * compile to one {@code vpermps} and one masked move each, where the two-vector {@code rearrange} and
 * {@code selectFrom} did not compile to single instructions (10-20 times slower than gathers).
 */
final class VectorTransposeTile extends GeneratedClass {
    /** Lanes of the vectors and the side of the block. */
    static final int SIZE = 16;
    private static final String KERNELS = "org.lacuna.runtime.cpu.kernels";

    VectorTransposeTile() {
        super(KERNELS);
    }

    @Override
    String source() {
        JavaWriter java = new JavaWriter(packageName(), getClass(), "java.lang.foreign.MemorySegment",
                "java.nio.ByteOrder", "jdk.incubator.vector.FloatVector", "jdk.incubator.vector.VectorMask",
                "jdk.incubator.vector.VectorShuffle", "jdk.incubator.vector.VectorSpecies");
        java.line("/** A %d × %d fp32 block transposed in registers (the emitter explains the stages). */", SIZE, SIZE);
        java.open("final class VectorTransposeTile");
        java.line("/** Rows and columns of the block; the vectors are this many fp32 lanes. */");
        java.line("static final int SIZE = %d;", SIZE);
        java.line("static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;");
        java.line("private static final ByteOrder ORDER = ByteOrder.nativeOrder();");
        for (int d = 1; d < SIZE; d *= 2) {
            java.line("private static final VectorShuffle<Float> SWAP%d = VectorShuffle.fromOp(SPECIES, "
                    + "lane -> lane ^ %d);", d, d);
            java.line("private static final VectorMask<Float> UPPER%d = VectorMask.fromLong(SPECIES, 0x%sL);", d,
                    Long.toHexString(upperLanes(d)));
        }
        java.blank();
        java.open("private VectorTransposeTile()").close();
        java.blank();
        java.line("/**");
        java.line(" * Reads rows {@code src[srcOffset + i · srcStride .. + SIZE)} for {@code i < SIZE} and writes column i of");
        java.line(" * that block as SIZE floats at byte {@code dstOffset + i · dstStride} of {@code dst}.");
        java.line(" */");
        java.open("static void transpose(float[] src, int srcOffset, int srcStride, MemorySegment dst, long dstOffset, "
                + "long dstStride)");
        java.each(SIZE, i -> JavaWriter.format("FloatVector r%d = FloatVector.fromArray(SPECIES, src, %s);", i,
                JavaWriter.offset("srcOffset", i, "srcStride")));
        java.line("FloatVector low;");
        java.line("FloatVector high;");
        for (int d = 1; d < SIZE; d *= 2) {
            for (int i = 0; i < SIZE; i++) {
                if ((i & d) != 0) {
                    continue;
                }
                int j = i + d;
                java.line("low = r%d.blend(r%d.rearrange(SWAP%d), UPPER%d);", i, j, d, d);
                java.line("high = r%d.rearrange(SWAP%d).blend(r%d, UPPER%d);", i, d, j, d);
                java.line("r%d = low;", i);
                java.line("r%d = high;", j);
            }
        }
        java.each(SIZE, i -> JavaWriter.format("r%d.intoMemorySegment(dst, %s, ORDER);", i,
                JavaWriter.offset("dstOffset", i, "dstStride")));
        java.close();
        java.close();
        return java.toString();
    }

    /** The lanes l with bit {@code distance} set: where a stage takes the partner row's permuted lanes. */
    private static long upperLanes(int distance) {
        long bits = 0;
        for (int lane = 0; lane < SIZE; lane++) {
            if ((lane & distance) != 0) {
                bits |= 1L << lane;
            }
        }
        return bits;
    }
}
