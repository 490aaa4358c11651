package org.lacuna.bench.record;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The commit a benchmark measured, for its record: {@code git} on the working directory's repository, where there is
 * one (a bundle run on the GPU machine has none, and says so in place of the value).
 */
public final class MeasuredCommit {
    private MeasuredCommit() {
    }

    /** {@code commit}, {@code branch} and {@code uncommittedChanges} (tracked files only), in that order. */
    public static Map<String, String> describe() {
        Map<String, String> build = new LinkedHashMap<>();
        build.put("commit", git("rev-parse", "HEAD"));
        build.put("branch", git("rev-parse", "--abbrev-ref", "HEAD"));
        String status = git("status", "--porcelain", "--untracked-files=no");
        build.put("uncommittedChanges", status.startsWith("(") ? status : Boolean.toString(!status.isBlank()));
        return build;
    }

    private static String git(String... args) {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? out : "(git: " + out + ")";
        } catch (IOException e) {
            return "(no git: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }
}
