package org.lacuna.bench.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A record names the commit it measured, or says why it cannot. */
class MeasuredCommitTest {
    @Test
    void namesTheCommitBranchAndWhetherTrackedFilesChanged() {
        Map<String, String> build = MeasuredCommit.describe();
        assertEquals(List.of("commit", "branch", "uncommittedChanges"), List.copyOf(build.keySet()));
        String commit = build.get("commit");
        // Tests run inside the repository (a clean clone in CI); outside one, git's own words stand in the value.
        assertTrue(commit.matches("[0-9a-f]{40}") || commit.startsWith("("), commit);
        String changed = build.get("uncommittedChanges");
        assertTrue(changed.equals("true") || changed.equals("false") || changed.startsWith("("), changed);
    }
}
