package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.lacuna.api.io.Safetensors;
import org.lacuna.bench.Json;
import org.lacuna.runtime.sparseconv.KernelMap;

/**
 * What {@code bench/anchors/sparse_conv_anchor.py} needs to time PyTorch on exactly Lacuna's problems: a folder with
 * {@code manifest.json} (cases, layers, row counts, pairs per offset, which file holds which map),
 * {@code weights.safetensors} (every kernel, F32 [volume, in, out] under MinkUNet's keys; both sides round them to
 * fp16 the same way) and one {@code map-*.npy} per distinct kernel map: int32 [2, pairs], row 0 the input rows, row 1
 * the output rows, offset-major in {@link org.lacuna.runtime.sparseconv.ConvGeometry#offset} order, so offset v's
 * pairs are the {@code pairsPerOffset[v]} columns after those of the offsets before it. Layers that meet the same map
 * share its file.
 */
public final class SparseConvExport {
    public static final String SCHEMA = "lacuna-sparse-conv-export/1";
    public static final String MANIFEST = "manifest.json";
    public static final String WEIGHTS = "weights.safetensors";

    private final Path dir;
    private final ObjectNode manifest = Json.MAPPER.createObjectNode();
    private final ArrayNode cases = manifest.putArray("cases");
    private final Map<KernelMap, String> written = new IdentityHashMap<>();
    private boolean weightsWritten;

    public SparseConvExport(Path dir, String source, int inChannels, int[] channels) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        manifest.put("schema", SCHEMA).put("source", source).put("dtype", "f16")
                .put("voxelSize", SparseConvNetwork.VOXEL_SIZE).put("inChannels", inChannels)
                .put("weights", WEIGHTS);
        ArrayNode cs = manifest.putArray("channels");
        for (int c : channels) {
            cs.add(c);
        }
    }

    /** Adds one batch's layers (as cases named by {@link SparseConvBenchmark#layerCase}) and its end-to-end case. */
    public void add(int batch, SparseConvNetwork network) throws IOException {
        if (!weightsWritten) {
            Safetensors.write(dir.resolve(WEIGHTS), network.parameters().values());
            weightsWritten = true;
        }
        ArrayNode endToEndLayers = Json.MAPPER.createArrayNode();
        for (SparseConvNetwork.Layer layer : network.layers()) {
            KernelMap map = layer.map();
            String file = written.get(map);
            if (file == null) {
                file = "map-b" + batch + "-" + written.size() + ".npy";
                writePairs(dir.resolve(file), map);
                written.put(map, file);
            }
            String id = SparseConvBenchmark.layerCase(batch, layer.key());
            endToEndLayers.add(id);
            ObjectNode c = cases.addObject();
            c.put("case", id).put("kind", "layer").put("batch", batch).put("layer", layer.key())
                    .put("weight", layer.key() + ".kernel").put("in", layer.in()).put("out", layer.out())
                    .put("volume", map.volume()).put("geometry", layer.geometry().toString())
                    .put("inputRows", map.inputCount()).put("outputRows", map.outputCount())
                    .put("pairs", map.totalPairs()).put("flops", layer.usefulFlops()).put("pairsFile", file);
            ArrayNode perOffset = c.putArray("pairsPerOffset");
            for (int v = 0; v < map.volume(); v++) {
                perOffset.add(map.pairCount(v));
            }
        }
        ObjectNode e2e = cases.addObject();
        e2e.put("case", SparseConvBenchmark.endToEndCase(batch)).put("kind", "end-to-end").put("batch", batch)
                .put("flops", network.usefulFlops()).set("layers", endToEndLayers);
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(MANIFEST).toFile(), manifest);
    }

    /** int32 [2, pairs] as NumPy's .npy version 1.0, little-endian. */
    static void writePairs(Path file, KernelMap map) throws IOException {
        int[] inputs = map.pairInputs();
        int[] outputs = map.pairOutputs();
        writeInt32Npy(file, 2, inputs.length, List.of(inputs, outputs));
    }

    static void writeInt32Npy(Path file, int rows, int cols, List<int[]> data) throws IOException {
        String dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        int unpadded = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        try (OutputStream raw = Files.newOutputStream(file);
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16))) {
            out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
            out.write(header.length() & 0xff);
            out.write(header.length() >>> 8);
            out.writeBytes(header);
            for (int[] row : data) {
                for (int v : row) {
                    out.writeInt(Integer.reverseBytes(v));
                }
            }
        }
    }
}
