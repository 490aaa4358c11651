package org.lacuna.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.layers.TwoFourScope;

class SparsityOptionTest {
    @Test
    void theStandardSetStartsDenseAndDropsFromTheMiddleLayer() {
        List<SparsityOption> options = SparsityOption.withScoreVariants(6);
        assertTrue(options.get(0).sparsity().isDense());
        assertEquals(options.subList(0, 9), SparsityOption.standard(6));
        assertEquals(List.of("dense", "2:4 ffn", "2:4 all", "keep 0.7", "keep 0.5", "2:4 ffn + keep 0.7",
                "2:4 ffn + keep 0.5", "2:4 all + keep 0.7", "2:4 all + keep 0.5", "keep 0.7 (received)",
                "keep 0.5 (received)"), options.stream().map(SparsityOption::label).toList());
        SparsityOption combined = options.get(8);
        assertEquals(TwoFourScope.ALL, combined.sparsity().twoFour());
        assertEquals(0.5, combined.sparsity().keepRatio());
        assertEquals(3, combined.sparsity().fromLayer());
        assertEquals("2:4 all + keep 0.5 from layer 3 by CLS_ATTENTION", combined.sparsity().describe());
    }

    @Test
    void licenceParagraphsAreDistinctCollapsedAndLongEnough(@TempDir Path dir) throws Exception {
        String text = "Short.\n\nThis   paragraph is long enough\nto be a sentence of the corpus.\n\n   \n"
                + "Another paragraph that is long enough to count here.\n";
        Files.writeString(dir.resolve("A"), text);
        Files.writeString(dir.resolve("B"), text); // a copy, as GPL and GPL-3 are
        List<String> paragraphs = LicenceParagraphs.read(dir, 10);
        assertEquals(List.of("This paragraph is long enough to be a sentence of the corpus.",
                "Another paragraph that is long enough to count here."), paragraphs);
        assertEquals(1, LicenceParagraphs.read(dir, 1).size());
        assertTrue(LicenceParagraphs.read(dir.resolve("absent"), 10).isEmpty());
    }
}
