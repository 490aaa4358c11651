package org.lacuna.runtime.internal.nativelib;

import java.util.Locale;
import java.util.Optional;

/**
 * How a found library is bound. JCuda's JNI libraries (version 12.6) need the {@code .so.12} soname; java.lang.foreign
 * binds any soname. {@code lacuna.<lib>.binding=jcuda|ffm} (or {@code LACUNA_<LIB>_BINDING}) forces one.
 */
public enum BindingPreference {
    /** JCuda for a {@code .so.12}, java.lang.foreign for anything else. */
    AUTO,
    /** Only JCuda: a library of another major version is rejected. */
    JCUDA,
    /** java.lang.foreign for every library, {@code .so.12} included. */
    FFM;

    /** The soname major version JCuda 12.6's JNI libraries link against. */
    public static final int JCUDA_SONAME_MAJOR = 12;

    /**
     * The setting for {@code spec}, {@link #AUTO} when unset.
     *
     * @throws IllegalArgumentException naming the setting when it holds something else than jcuda, ffm or auto
     */
    public static BindingPreference read(SearchEnvironment environment, LibrarySpec spec) {
        Optional<String> value = environment.setting(spec.bindingProperty(), spec.bindingEnvironmentVariable());
        if (value.isEmpty()) {
            return AUTO;
        }
        return switch (value.get().toLowerCase(Locale.ROOT)) {
            case "jcuda" -> JCUDA;
            case "ffm" -> FFM;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException(
                    spec.bindingProperty() + "=" + value.get() + " is not one of jcuda, ffm, auto");
        };
    }

    /** Whether JCuda should bind {@code candidate}; throws when the preference rules the candidate out. */
    public boolean useJcuda(LibraryCandidate candidate, LibrarySpec spec) {
        boolean jcudaCanBind = candidate.majorVersion().orElse(-1) == JCUDA_SONAME_MAJOR;
        return switch (this) {
            case FFM -> false;
            case AUTO -> jcudaCanBind;
            case JCUDA -> {
                if (!jcudaCanBind) {
                    throw new IllegalArgumentException(spec.bindingProperty() + "=jcuda, but JCuda binds only a .so."
                            + JCUDA_SONAME_MAJOR + " library, not " + candidate.file().getFileName());
                }
                yield true;
            }
        };
    }
}
