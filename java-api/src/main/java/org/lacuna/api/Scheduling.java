package org.lacuna.api;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.schedule.Calibration;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.EfficiencyTable;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;

/**
 * How a session's {@link Scheduler} is made from the configuration: {@code lacuna.schedule} (policy, default
 * {@code auto}) and {@code lacuna.tuningStore} (a file, or {@code memory} to keep nothing on disk; default
 * {@link TuningStore#defaultFile()}).
 */
public final class Scheduling {
    /** The file stores opened in this JVM, by absolute path. */
    private static final ConcurrentMap<Path, TuningStore> OPEN_STORES = new ConcurrentHashMap<>();

    private Scheduling() {
    }

    /** The configured policy, {@code auto} if none. */
    public static Policy configuredPolicy() {
        return LacunaConfig.get("schedule").map(Policy::parse).orElse(Policy.auto());
    }

    /**
     * The configured store: in memory, a named file, or the default file. A file is opened once per JVM and its
     * store shared by every session on it, so that a close call one session measured is the choice of the next as
     * well: measured apart, two sessions could pick different kernels for the same layer (a near-tie decided by
     * noise) and give one input two results, a few ulps apart (a Spark executor's session and the driver's did).
     */
    public static TuningStore configuredStore() {
        Optional<String> setting = LacunaConfig.get("tuningStore");
        if (setting.isPresent() && setting.get().toLowerCase(Locale.ROOT).equals("memory")) {
            return TuningStore.inMemory();
        }
        Path file = setting.map(Path::of).orElseGet(TuningStore::defaultFile).toAbsolutePath().normalize();
        return OPEN_STORES.computeIfAbsent(file, TuningStore::open);
    }

    /** A scheduler for {@code backend} with {@code policy} on the configured store. */
    public static Scheduler open(Backend backend, Policy policy) {
        return open(backend, policy, configuredStore());
    }

    /**
     * A scheduler for {@code backend}: the device's table from {@code store}, or (none stored, or a stale one: {@link
     * EfficiencyTable#stale()}) measured now and stored there.
     */
    public static Scheduler open(Backend backend, Policy policy, TuningStore store) {
        DeviceKey device = DeviceKey.of(backend.name(), backend.device());
        // A table an older calibration made (or a hand-edited one of no version) is measured again, never fatal.
        EfficiencyTable table = store.efficiency(device).filter(t -> !t.stale()).orElseGet(() -> {
            EfficiencyTable measured = Calibration.measure(backend);
            store.putEfficiency(device, measured);
            return measured;
        });
        return new Scheduler(device, table, store, policy, backend::newTimer);
    }
}
