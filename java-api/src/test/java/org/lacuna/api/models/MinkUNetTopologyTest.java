package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.runtime.error.InvalidInputException;

class MinkUNetTopologyTest {
    private static final int[] CS = {3, 3, 5, 6, 7, 7, 6, 4, 4};

    @Test
    void theNetworkIsBuiltFromExactlyTheLayersTheTopologyLists() {
        Set<String> expected = new TreeSet<>();
        for (MinkUNetTopology.Layer layer : MinkUNetTopology.layers(2, CS)) {
            List<MinkUNetTopology.Conv> convs = layer.residual()
                    ? MinkUNetTopology.residualConvolutions(layer.key(), layer.in(), layer.out())
                    : List.of(new MinkUNetTopology.Conv(layer.key(), layer.normKey(), layer.geometry(), layer.in(),
                            layer.out(), true));
            for (MinkUNetTopology.Conv conv : convs) {
                expected.add(conv.key() + ".kernel");
                for (String part : List.of("weight", "bias", "running_mean", "running_var")) {
                    expected.add(conv.normKey() + "." + part);
                }
            }
        }
        expected.add("classifier.0.weight");
        expected.add("classifier.0.bias");
        MinkUNet.Config config = new MinkUNet.Config(2, 3, CS, org.lacuna.runtime.data.DType.F32);
        try (Session session = Lacuna.open("cpu", 0);
             MinkUNet net = MinkUNet.create(session, config, ModelWeights.random(3))) {
            assertEquals(expected, new TreeSet<>(net.parameters().keySet()));
        }
    }

    @Test
    void levelsAndWidthsChainThroughTheNetwork() {
        List<MinkUNetTopology.Layer> layers = MinkUNetTopology.layers(4, CS);
        assertEquals(2 + 4 * 3 + 4 * 3, layers.size());
        int level = 0;
        int width = 4;
        int[] skipWidth = new int[5];
        for (MinkUNetTopology.Layer layer : layers) {
            assertEquals(level, layer.level(), layer.key() + " reads the coordinates the layer before wrote");
            int in = layer.role() == MinkUNetTopology.Role.DECODER_BLOCK && layer.key().endsWith(".1.0")
                    ? width + skipWidth[level] : width;
            assertEquals(in, layer.in(), layer.key() + " takes what the layer before made (with the skip)");
            level = layer.outputLevel();
            width = layer.out();
            if (layer.role() == MinkUNetTopology.Role.STEM || layer.role() == MinkUNetTopology.Role.ENCODER_BLOCK) {
                skipWidth[level] = width;
            }
        }
        assertEquals(0, level, "the decoder ends at stride 1");
        assertEquals(CS[8], width);
        assertEquals(3, MinkUNetTopology.residualConvolutions("b", 4, 5).size(), "a width change adds the projection");
        assertEquals(2, MinkUNetTopology.residualConvolutions("b", 5, 5).size());
        assertThrows(InvalidInputException.class, () -> MinkUNetTopology.layers(4, new int[8]));
        assertEquals(32, MinkUNetTopology.defaultChannels()[0]);
    }
}
