package org.lacuna.runtime.compile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** ptxas's verbose resource report ({@code --ptxas-options=-v}) read out of an NVRTC log, per entry function. */
public record PtxasReport(List<FunctionResources> functions) {

    /**
     * @param stackBytes      stack frame size (local memory the compiler chose)
     * @param spillStoreBytes bytes spilled to local memory; any spill fails the compile check
     */
    public record FunctionResources(String function, String architecture, int registers, int sharedBytes,
                                    int stackBytes, int spillStoreBytes, int spillLoadBytes) {
        public boolean spills() {
            return spillStoreBytes > 0 || spillLoadBytes > 0;
        }
    }

    private static final Pattern COMPILING = Pattern.compile("Compiling entry function '([^']+)' for '([^']+)'");
    private static final Pattern PROPERTIES = Pattern.compile("Function properties for (\\S+)");
    private static final Pattern FRAME = Pattern.compile(
            "(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern USED = Pattern.compile("Used (\\d+) registers");
    private static final Pattern SMEM = Pattern.compile("(\\d+) bytes smem");

    public static PtxasReport parse(String log) {
        Map<String, int[]> values = new LinkedHashMap<>(); // registers, smem, stack, spill stores, spill loads
        Map<String, String> architectures = new LinkedHashMap<>();
        String current = null;
        for (String line : log.lines().toList()) {
            Matcher m;
            if ((m = COMPILING.matcher(line)).find()) {
                current = m.group(1);
                architectures.put(current, m.group(2));
                values.computeIfAbsent(current, k -> new int[5]);
            } else if ((m = PROPERTIES.matcher(line)).find()) {
                current = m.group(1);
                values.computeIfAbsent(current, k -> new int[5]);
            } else if (current != null && (m = FRAME.matcher(line)).find()) {
                int[] v = values.get(current);
                v[2] = Integer.parseInt(m.group(1));
                v[3] = Integer.parseInt(m.group(2));
                v[4] = Integer.parseInt(m.group(3));
            } else if (current != null && (m = USED.matcher(line)).find()) {
                int[] v = values.get(current);
                v[0] = Integer.parseInt(m.group(1));
                Matcher smem = SMEM.matcher(line);
                if (smem.find()) {
                    v[1] = Integer.parseInt(smem.group(1));
                }
            }
        }
        List<FunctionResources> functions = new ArrayList<>();
        // "Function properties" also appears for non-entry device functions; keep only the entries ptxas compiled.
        architectures.forEach((function, arch) -> {
            int[] v = values.get(function);
            functions.add(new FunctionResources(function, arch, v[0], v[1], v[2], v[3], v[4]));
        });
        return new PtxasReport(List.copyOf(functions));
    }

    public boolean anySpills() {
        return functions.stream().anyMatch(FunctionResources::spills);
    }
}
