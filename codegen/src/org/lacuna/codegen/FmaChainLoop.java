package org.lacuna.codegen;

/**
 * The FMA peak loop of the bench module ({@code org.lacuna.bench.cpu.FmaChainLoop}, used by {@code FmaPeak}):
 * {@link #CHAINS} independent accumulators, each {@code c = c * m + a}, so the loop is bound by FMA throughput and not
 * by its latency (4 cycles x 2 ports needs at least 8 in flight). The values converge (x0.999999 + 1e-6), so no
 * denormal or overflow slows it.
 */
final class FmaChainLoop extends GeneratedClass {
    static final int CHAINS = 12;

    FmaChainLoop() {
        super("org.lacuna.bench.cpu");
    }

    @Override
    String source() {
        JavaWriter java = new JavaWriter(packageName(), getClass(), "jdk.incubator.vector.FloatVector",
                "jdk.incubator.vector.VectorOperators", "jdk.incubator.vector.VectorSpecies");
        java.line("/** " + CHAINS + " independent vector FMA chains at the preferred width; see the emitter. */");
        java.open("final class FmaChainLoop");
        java.line("static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;");
        java.line("static final int CHAINS = %d;", CHAINS);
        java.blank();
        java.open("private FmaChainLoop()").close();
        java.blank();
        java.line("/** {@code iterations} rounds of the chains; returns a lane sum so the JIT keeps the work. */");
        java.open("static float loop(long iterations)");
        java.line("FloatVector m = FloatVector.broadcast(SPECIES, 0.999999f);");
        java.line("FloatVector a = FloatVector.broadcast(SPECIES, 1e-6f);");
        java.each(CHAINS, c -> JavaWriter.format("FloatVector c%d = FloatVector.broadcast(SPECIES, %.1ff);", c, 0.1f * (c + 1)));
        java.open("for (long i = 0; i < iterations; i++)");
        java.each(CHAINS, c -> JavaWriter.format("c%d = c%d.fma(m, a);", c, c));
        java.close();
        java.line("return c0%s.reduceLanes(VectorOperators.ADD);",
                JavaWriter.joined(CHAINS - 1, "", c -> ".add(c" + (c + 1) + ")"));
        java.close();
        java.close();
        return java.toString();
    }
}
