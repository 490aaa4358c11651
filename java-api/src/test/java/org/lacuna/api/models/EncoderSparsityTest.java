package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.api.layers.TokenDropping;
import org.lacuna.api.layers.TwoFourScope;
import org.lacuna.api.text.EmbeddingAgreement;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.attention.SelectionRule;

class EncoderSparsityTest {
    @Test
    void droppingStartsAtItsLayerAndKeepsTheClsToken() {
        EncoderSparsity sparsity = EncoderSparsity.DENSE.withTwoFour(TwoFourScope.FFN).withTokenDropping(0.7, 3);
        assertFalse(sparsity.isDense());
        assertNull(sparsity.droppingAt(2));
        TokenDropping dropping = sparsity.droppingAt(3);
        assertEquals(ScoreRule.CLS_ATTENTION, dropping.score());
        assertEquals(SelectionRule.keepRatio(0.7).pinningPrefix(1), dropping.rule());
        assertEquals(dropping, sparsity.droppingAt(5));
        assertEquals("2:4 ffn + keep 0.7 from layer 3 by CLS_ATTENTION", sparsity.describe());
        assertEquals("dense", EncoderSparsity.DENSE.describe());
        assertTrue(EncoderSparsity.DENSE.isDense());
        assertNull(EncoderSparsity.DENSE.droppingAt(0));
    }

    @Test
    void badSettingsAreRefusedWithTheReason() {
        EncoderSparsity dense = EncoderSparsity.DENSE;
        assertTrue(assertThrows(InvalidInputException.class, () -> dense.withTokenDropping(0, 1)).getMessage()
                .contains("keep ratio must be in (0, 1]"));
        assertTrue(assertThrows(InvalidInputException.class, () -> dense.withTokenDropping(Double.NaN, 1))
                .getMessage().contains("keep ratio"));
        assertTrue(assertThrows(InvalidInputException.class, () -> dense.withTokenDropping(0.5, -1)).getMessage()
                .contains("must not be negative"));
        assertTrue(assertThrows(InvalidInputException.class, () -> dense.withTokenDropping(0.5, 0)).getMessage()
                .contains("layer 0 cannot rank tokens by CLS_ATTENTION"));
        assertEquals(0, dense.withScore(ScoreRule.L2_NORM).withTokenDropping(0.5, 0).fromLayer(),
                "a norm score needs no layer before");
        assertThrows(InvalidInputException.class, () -> dense.withScore(ScoreRule.GIVEN));
        assertThrows(InvalidInputException.class, () -> dense.withTwoFour(null));
        EncoderSparsity late = dense.withTokenDropping(0.5, 6);
        assertTrue(assertThrows(InvalidInputException.class, () -> late.requireFits(6)).getMessage()
                .contains("the encoder has 6 layers"));
        late.requireFits(7);
    }

    @Test
    void agreementIsThePerTextCosineItsMeanAndWorst() {
        float[][] reference = {{1, 0}, {0, 2}, {3, 4}};
        float[][] candidate = {{2, 0}, {1, 1}, {-3, -4}};
        EmbeddingAgreement agreement = EmbeddingAgreement.of(reference, candidate);
        assertEquals(1.0, agreement.cosines()[0], 1e-12);
        assertEquals(Math.sqrt(0.5), agreement.cosines()[1], 1e-12);
        assertEquals(-1.0, agreement.min(), 1e-12);
        assertEquals(2, agreement.minIndex());
        assertEquals((1 + Math.sqrt(0.5) - 1) / 3, agreement.mean(), 1e-12);
        assertEquals(0.0, EmbeddingAgreement.cosine(new float[] {0, 0}, new float[] {1, 0}));
        assertThrows(InvalidInputException.class, () -> EmbeddingAgreement.of(reference, new float[2][2]));
        assertThrows(InvalidInputException.class, () -> EmbeddingAgreement.cosine(new float[2], new float[3]));
    }
}
