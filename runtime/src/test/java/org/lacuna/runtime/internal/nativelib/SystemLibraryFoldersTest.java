package org.lacuna.runtime.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemLibraryFoldersTest {
    @TempDir
    Path temp;

    @Test
    void readsFoldersAndIncludesInOrderThenTheBuiltInOnesWithoutRepeats() throws IOException {
        Path confD = Files.createDirectories(temp.resolve("ld.so.conf.d"));
        Files.writeString(confD.resolve("b-cuda.conf"), "/usr/local/cuda-13.0/lib\n");
        Files.writeString(confD.resolve("a-libc.conf"), "# libc default configuration\n/usr/local/lib\n\n");
        Files.writeString(confD.resolve("ignored.txt"), "/not/included\n");
        Path conf = Files.writeString(temp.resolve("ld.so.conf"),
                "/opt/first # trailing comment\ninclude " + confD + "/*.conf\n/usr/lib\n");

        List<Path> folders = SystemLibraryFolders.read(conf, List.of(Path.of("/usr/lib"), Path.of("/lib64")));

        assertEquals(List.of(Path.of("/opt/first"), Path.of("/usr/local/lib"), Path.of("/usr/local/cuda-13.0/lib"),
                Path.of("/usr/lib"), Path.of("/lib64")), folders);
    }

    @Test
    void aMissingConfigurationLeavesTheBuiltInFolders() {
        assertEquals(List.of(Path.of("/lib64")), SystemLibraryFolders.read(temp.resolve("absent.conf"),
                List.of(Path.of("/lib64"))));
    }

    @Test
    void relativeIncludesResolveAgainstTheConfigurationsFolder() throws IOException {
        Path confD = Files.createDirectories(temp.resolve("conf.d"));
        Files.writeString(confD.resolve("x.conf"), "/opt/x\n");
        Path conf = Files.writeString(temp.resolve("ld.so.conf"), "include conf.d/*.conf\n");

        assertEquals(List.of(Path.of("/opt/x")), SystemLibraryFolders.read(conf, List.of()));
    }
}
