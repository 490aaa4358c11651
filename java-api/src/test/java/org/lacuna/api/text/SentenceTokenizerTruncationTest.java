package org.lacuna.api.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link SentenceTokenizer#encodeMarkingTruncation} says which texts were cut, and cuts them as encode does. */
class SentenceTokenizerTruncationTest {
    @Test
    void marksExactlyTheTextsLongerThanTheLimit() throws Exception {
        ClassLoader loader = getClass().getClassLoader();
        assumeTrue(loader.getResource(SentenceEmbedder.BUNDLED_TOKENIZER) != null, "needs all-MiniLM-L6-v2's tokenizer");
        int limit = 16;
        try (InputStream in = loader.getResourceAsStream(SentenceEmbedder.BUNDLED_TOKENIZER);
             SentenceTokenizer tokenizer = SentenceTokenizer.open(in, "minilm", limit, 512)) {
            String fits = "A short sentence fits.";
            // 14 words plus [CLS] and [SEP]: exactly the limit, which is not a cut.
            String exactly = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
            String tooLong = exactly + " fifteen";
            SentenceTokenizer.Encoded encoded = tokenizer.encodeMarkingTruncation(List.of(fits, exactly, tooLong));
            assertArrayEquals(new boolean[] {false, false, true}, encoded.truncated());
            assertEquals(limit, encoded.batch().lengths()[1]);
            assertEquals(limit, encoded.batch().lengths()[2]);
            TokenBatch plain = tokenizer.encode(List.of(fits, exactly, tooLong));
            assertArrayEquals(plain.ids(), encoded.batch().ids());
            assertArrayEquals(plain.lengths(), encoded.batch().lengths());
        }
    }
}
