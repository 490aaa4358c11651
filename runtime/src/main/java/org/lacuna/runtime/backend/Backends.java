package org.lacuna.runtime.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/**
 * Finds backends through {@link ServiceLoader} and opens the one that should serve: the one named by
 * {@code -Dlacuna.backend} / {@code LACUNA_BACKEND} if set, else the available one of highest rank.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {
    }

    /** A provider with the outcome of its probe. */
    public record Candidate(BackendProvider provider, BackendAvailability availability) {
    }

    /** Every provider on the class path, highest rank first, each probed. Never throws for an unavailable one. */
    public static List<Candidate> survey() {
        List<Candidate> candidates = new ArrayList<>();
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            BackendAvailability availability;
            try {
                availability = provider.probe();
            } catch (RuntimeException | LinkageError e) {
                availability = BackendAvailability.no("probe failed: " + e);
            }
            candidates.add(new Candidate(provider, availability));
        }
        candidates.sort(Comparator.comparingInt((Candidate c) -> c.provider().rank()).reversed());
        return candidates;
    }

    /** The provider that {@link #open()} would use, with why each higher-ranked one was passed over. */
    public static Selection select() {
        List<Candidate> candidates = survey();
        Optional<String> override = LacunaConfig.backendOverride();
        if (override.isPresent()) {
            Candidate named = candidates.stream().filter(c -> c.provider().name().equals(override.get())).findFirst()
                    .orElseThrow(() -> new LacunaException(ErrorCode.BACKEND_UNAVAILABLE, "Backends.select",
                            "lacuna.backend=" + override.get() + " names no backend; known: "
                                    + candidates.stream().map(c -> c.provider().name()).toList()));
            if (!named.availability().available()) {
                throw new LacunaException(ErrorCode.BACKEND_UNAVAILABLE, "Backends.select", "lacuna.backend="
                        + override.get() + " was asked for but is unavailable: " + named.availability().reason());
            }
            return new Selection(named, candidates, "chosen by lacuna.backend=" + override.get());
        }
        List<String> passedOver = new ArrayList<>();
        for (Candidate candidate : candidates) {
            if (candidate.availability().available()) {
                String why = passedOver.isEmpty() ? "highest-ranked available backend"
                        : "fallback: " + String.join("; ", passedOver);
                return new Selection(candidate, candidates, why);
            }
            passedOver.add(candidate.provider().name() + " unavailable (" + candidate.availability().reason() + ")");
        }
        throw new LacunaException(ErrorCode.BACKEND_UNAVAILABLE, "Backends.select",
                "no backend is available: " + String.join("; ", passedOver));
    }

    /** Opens device 0 of the selected backend, saying at INFO level when it falls back. */
    public static Backend open() {
        return open(0);
    }

    public static Backend open(int deviceOrdinal) {
        Selection selection = select();
        LOG.log(System.Logger.Level.INFO, "Lacuna backend: {0} ({1})", selection.chosen().provider().name(), selection.reason());
        return selection.chosen().provider().open(deviceOrdinal);
    }

    /**
     * @param reason why this backend serves, e.g. "fallback: cuda unavailable (libcuda.so.1 cannot be loaded ...)"
     */
    public record Selection(Candidate chosen, List<Candidate> candidates, String reason) {
    }
}
