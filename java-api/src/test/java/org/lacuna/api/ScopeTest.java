package org.lacuna.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.api.layers.Linear;
import org.lacuna.api.layers.SparseConv3d;
import org.lacuna.api.models.MinkUNet;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.sparseconv.ConvGeometry;

/** Lifetimes: session and scope ownership, close order, failures while closing, and the one ownership rule. */
class ScopeTest {
    private static Session cpu() {
        return Lacuna.open("cpu", 0);
    }

    @Test
    void aScopeClosesWhatWasMadeInsideAndKeepsWhatIsHandedOut() {
        try (Session s = cpu()) {
            Tensor before = s.fromFloats(new float[] {1, 2}, DType.F32, 2);
            long inUseBefore = s.memoryStats().inUseBytes();
            Tensor temporary;
            Tensor result;
            try (Scope scope = s.scope()) {
                temporary = s.add(before, before);
                result = scope.keep(s.biasActivation(temporary, null, Activation.RELU, DType.F32));
            }
            assertTrue(temporary.isClosed());
            assertFalse(result.isClosed());
            assertFalse(before.isClosed());
            assertArrayEquals(new float[] {2, 4}, result.toFloatArray());
            result.close();
            assertEquals(inUseBefore, s.memoryStats().inUseBytes(), "the scope freed its temporaries");
        }
    }

    @Test
    void keptTensorsMoveOneScopeOutAndKeepingAViewKeepsItsOwner() {
        try (Session s = cpu()) {
            Tensor view;
            Tensor inner;
            try (Scope outer = s.scope()) {
                try (Scope nested = s.scope()) {
                    Tensor owner = s.fromFloats(new float[] {1, 2, 3, 4}, DType.F32, 2, 2);
                    view = nested.keep(owner.rows(1, 2));
                    inner = s.fromFloats(new float[] {9}, DType.F32, 1);
                }
                assertTrue(inner.isClosed());
                assertArrayEquals(new float[] {3, 4}, view.toFloatArray(), "the view's owner moved to the outer scope");
            }
            assertTrue(view.isClosed(), "the outer scope closed it");
        }
    }

    @Test
    void keepingSomethingTheScopeDoesNotOwnIsAClearError() {
        try (Session s = cpu(); Scope scope = s.scope()) {
            Tensor kept = scope.keep(s.fromFloats(new float[] {1}, DType.F32, 1));
            InvalidInputException again = assertThrows(InvalidInputException.class, () -> scope.keep(kept));
            assertEquals("Scope.keep", again.call());
            assertThrows(InvalidInputException.class, () -> scope.keep(null));
        }
    }

    @Test
    void aFailedOpInsideAScopeLeaksNothingAndTheSessionStaysUsable() {
        try (Session s = cpu()) {
            Tensor x = s.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, DType.F32, 2, 3);
            long inUse = s.memoryStats().inUseBytes();
            List<Tensor> made = new ArrayList<>();
            assertThrows(InvalidInputException.class, () -> {
                try (Scope scope = s.scope()) {
                    made.add(s.add(x, x));
                    Tensor wrongBias = s.fromFloats(new float[] {1, 2}, DType.F32, 2);
                    made.add(wrongBias);
                    s.biasActivation(made.get(0), wrongBias, Activation.GELU, DType.F32);
                }
            });
            assertTrue(made.stream().allMatch(Tensor::isClosed));
            assertEquals(inUse, s.memoryStats().inUseBytes(), "the failed scope left nothing behind");
            try (Scope scope = s.scope()) {
                assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, s.add(x, x).toFloatArray());
            }
        }
    }

    @Test
    void closingAnOuterScopeClosesTheInnerOnesAndTheSessionClosesScopesLeftOpen() {
        Session s = cpu();
        Scope outer = s.scope();
        Scope inner = s.scope();
        Tensor t = s.fromFloats(new float[] {1}, DType.F32, 1);
        outer.close();
        assertTrue(inner.isClosed());
        assertTrue(t.isClosed());
        Tensor afterwards = s.fromFloats(new float[] {2}, DType.F32, 1); // belongs to the session again
        Scope leftOpen = s.scope();
        Tensor inLeftOpen = s.fromFloats(new float[] {3}, DType.F32, 1);
        s.close();
        assertTrue(afterwards.isClosed());
        assertTrue(leftOpen.isClosed());
        assertTrue(inLeftOpen.isClosed());
        assertThrows(ResourceClosedException.class, s::scope);
    }

    @Test
    void theSessionClosesWhatItOwnsMostRecentFirstAndTheBackendLast() {
        Session s = cpu();
        List<String> order = new ArrayList<>();
        s.own(() -> order.add("first owned, backend open: " + !s.backendUnchecked().isClosed()));
        s.own(() -> order.add("second owned"));
        s.close();
        assertEquals(List.of("second owned", "first owned, backend open: true"), order);
        assertTrue(s.backendUnchecked().isClosed());
    }

    @Test
    void everyCloseFailureIsReportedTheFirstThrownTheRestSuppressedAndTheBackendStillCloses() {
        Session s = cpu();
        Tensor t = s.fromFloats(new float[] {1}, DType.F32, 1);
        IllegalStateException early = new IllegalStateException("made first, closed last");
        s.own(() -> {
            throw early;
        });
        s.own(() -> {
            throw new java.io.IOException("checked");
        });
        LacunaException thrown = assertThrows(LacunaException.class, s::close);
        assertEquals(ErrorCode.INTERNAL, thrown.code());
        assertTrue(thrown.getCause() instanceof java.io.IOException);
        assertEquals(List.of(early), List.of(thrown.getSuppressed()));
        assertTrue(t.isClosed());
        assertTrue(s.backendUnchecked().isClosed());
        s.close(); // idempotent, nothing thrown again
    }

    @Test
    void everyLayerAndNetworkBelongsToTheSessionOrScopeThatMadeIt() {
        Session s = cpu();
        Linear linear = Linear.create(s, new float[] {1, 2}, 1, 2, null, Linear.Options.of(DType.F32));
        SparseConv3d conv = SparseConv3d.create(s, ConvGeometry.submanifold(1), 1, 1, new float[] {2f}, null,
                SparseConv3d.Options.of(DType.F32));
        MinkUNet inScope;
        try (Scope scope = s.scope()) {
            inScope = MinkUNet.create(s, MinkUNet.Config.semanticKitti(4).scaled(0.125), ModelWeights.random(1));
        }
        Tensor x = s.fromFloats(new float[] {1, 1}, DType.F32, 1, 2);
        assertEquals(ErrorCode.CLOSED, assertThrows(LacunaException.class, () -> inScope.forward(null)).code(),
                "the network closed with its scope");
        assertArrayEquals(new float[] {3}, linear.forward(x).toFloatArray());
        s.close();
        assertEquals(ErrorCode.CLOSED, assertThrows(LacunaException.class, () -> linear.forward(x)).code());
        assertEquals(ErrorCode.CLOSED, assertThrows(LacunaException.class, () -> conv.forward(null)).code());
    }

    @Test
    void aClosedSessionRefusesToOwnMore() {
        Session s = cpu();
        s.close();
        int[] closes = {0};
        assertThrows(ResourceClosedException.class, () -> s.own(() -> closes[0]++));
        assertEquals(0, closes[0], "own() refuses before taking anything; the caller still holds the resource");
    }
}
