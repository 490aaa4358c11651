package org.lacuna.runtime.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SonamesTest {
    @TempDir
    Path temp;

    @Test
    void majorVersionComesFromTheFirstNumberAfterDotSo() {
        assertEquals(OptionalInt.of(12), Sonames.majorVersion("libnvrtc.so.12"));
        assertEquals(OptionalInt.of(12), Sonames.majorVersion("libnvrtc.so.12.9.86"));
        assertEquals(OptionalInt.of(13), Sonames.majorVersion("libcublas.so.13"));
        assertEquals(OptionalInt.of(1), Sonames.majorVersion("libcuda.so.1"));
        assertEquals(OptionalInt.empty(), Sonames.majorVersion("libnvrtc.so"));
        assertEquals(OptionalInt.empty(), Sonames.majorVersion("libnvrtc.so.x"));
    }

    @Test
    void sameMajorNamesTheCompanionWithTheLibrarysMajorVersion() {
        assertEquals(Optional.of("libcublasLt.so.13"), Sonames.sameMajor(Path.of("/x/libcublas.so.13"), "libcublasLt"));
        assertEquals(Optional.of("libnvJitLink.so.12"),
                Sonames.sameMajor(Path.of("/x/libcusparse.so.12.5.10"), "libnvJitLink"));
        assertEquals(Optional.empty(), Sonames.sameMajor(temp.resolve("libcublas.so"), "libcublasLt"));
    }

    @Test
    void anUnversionedLinkTakesTheVersionOfItsTarget() {
        Path real = SearchFixture.emptyFile(temp.resolve("libnvrtc.so.13.0.48"));
        Path link = SearchFixture.link(temp.resolve("libnvrtc.so"), real);

        assertEquals(OptionalInt.of(13), Sonames.majorVersion(link));
    }

    @Test
    void newestInFolderComparesVersionsNumerically() {
        SearchFixture.emptyFile(temp.resolve("libnvrtc-builtins.so.12.9"));
        SearchFixture.emptyFile(temp.resolve("libnvrtc-builtins.so.12.10"));
        SearchFixture.emptyFile(temp.resolve("libnvrtc-builtins.so.13.0"));
        SearchFixture.emptyFile(temp.resolve("libnvrtc-builtins.so.120"));

        assertEquals(Optional.of(temp.resolve("libnvrtc-builtins.so.12.10")),
                Sonames.newestInFolder(temp, "libnvrtc-builtins.so.12"));
        assertEquals(Optional.empty(), Sonames.newestInFolder(temp, "libnvrtc-builtins.so.11"));
        assertEquals(Optional.empty(), Sonames.newestInFolder(temp.resolve("absent"), "libnvrtc-builtins.so.12"));
    }

    @Test
    void aDependencyIsFoundBesideTheLibraryOrInASiblingPipWheel() {
        Path site = temp.resolve("site-packages");
        Path cusparse = SearchFixture.emptyFile(site.resolve("nvidia/cusparse/lib/libcusparse.so.12"));
        Path jitLink = SearchFixture.emptyFile(site.resolve("nvidia/nvjitlink/lib/libnvJitLink.so.12"));

        assertEquals(Optional.of(jitLink), Sonames.findDependency(cusparse, "libnvJitLink.so.12"));

        Path beside = SearchFixture.emptyFile(site.resolve("nvidia/cusparse/lib/libnvJitLink.so.12"));
        assertEquals(Optional.of(beside), Sonames.findDependency(cusparse, "libnvJitLink.so.12"));

        Path plain = SearchFixture.emptyFile(temp.resolve("cuda/lib64/libcusparse.so.12"));
        assertTrue(Sonames.findDependency(plain, "libnvJitLink.so.12").isEmpty());
    }
}
