package org.lacuna.runtime.schedule;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.lacuna.runtime.internal.AtomicFiles;

/**
 * The scheduler's memory across runs: per device ({@link DeviceKey}), its {@link EfficiencyTable}, the correction
 * each kernel's predictions earned from measurements, and every choice by layer signature. One JSON file (Jackson),
 * replaced atomically so that concurrent JVMs never read half a file. Choices are batched in memory and written by
 * {@link #flush()} (the scheduler flushes at the end of a plan and when its session closes), so a model's first run
 * writes the file once, not once per layer. A file that is corrupt,
 * truncated, of another format version or unreadable is ignored with a warning (kept in {@link #warnings()}) and
 * rebuilt by the next write: never fatal. Thread-safe.
 */
public final class TuningStore {
    /** Bumped whenever the meaning of a stored field changes: older files are then stale and ignored. */
    public static final int FORMAT_VERSION = 1;
    static final String FORMAT = "lacuna-tuning-store";
    private static final System.Logger LOG = System.getLogger(TuningStore.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /**
     * One stored choice.
     *
     * @param measuring   how a measured choice was measured ({@link Scheduler#MEASURING}); a file from an older
     *                    build has none, and its measured choices are measured again
     * @param provisional true where the choice rests on few samples or a near-tie ({@link LiveTrial}): the next
     *                    process re-checks it; absent (older files, confirmed choices) reads as confirmed
     */
    public record StoredChoice(String chosen, String policy, Decision.Source source, List<String> candidates,
                               Map<String, Double> predictedMillis, Map<String, Double> measuredMillis,
                               String recorded, String measuring, Boolean provisional) {
        /** A confirmed choice. */
        public StoredChoice(String chosen, String policy, Decision.Source source, List<String> candidates,
                            Map<String, Double> predictedMillis, Map<String, Double> measuredMillis,
                            String recorded, String measuring) {
            this(chosen, policy, source, candidates, predictedMillis, measuredMillis, recorded, measuring, null);
        }

        /** Whether the choice is provisional (to be re-checked by a later process). */
        public boolean provisionalChoice() {
            return Boolean.TRUE.equals(provisional);
        }
    }

    /** Everything stored for one device. */
    public record DeviceEntry(EfficiencyTable efficiency, Map<String, Double> corrections,
                              Map<String, StoredChoice> choices) {
        public DeviceEntry {
            corrections = corrections == null ? new TreeMap<>() : new TreeMap<>(corrections);
            choices = choices == null ? new TreeMap<>() : new TreeMap<>(choices);
        }
    }

    /** The file's whole content. */
    public record Document(String format, int version, Map<String, DeviceEntry> devices) {
    }

    private final Path file;
    private final Map<String, DeviceEntry> devices = new TreeMap<>();
    private final List<String> warnings = new ArrayList<>();
    private final boolean persistent;
    private final Object decisionLock = new Object();
    /** The choices recorded by this process (device, then key): the others were read from the file. */
    private final java.util.Set<String> recordedHere = new java.util.HashSet<>();
    /** Choices or corrections recorded since the last write. */
    private volatile boolean dirty;
    private int writes;
    /** The device {@link #entry} last looked up (by identity) and its entry. */
    private DeviceKey lastDevice;
    private DeviceEntry lastEntry;

    private TuningStore(Path file) {
        this.file = file;
        this.persistent = file != null;
        if (persistent) {
            load();
        }
    }

    /** The store in {@code file}, read now (a missing file is an empty store). */
    public static TuningStore open(Path file) {
        return new TuningStore(file);
    }

    /** A store that lives in memory only (tests, {@code predicted-only} runs that must not touch disk). */
    public static TuningStore inMemory() {
        return new TuningStore(null);
    }

    /** The default file: {@code <cache folder>/tuning/tuning-store.json}. */
    public static Path defaultFile() {
        return org.lacuna.runtime.backend.LacunaConfig.cacheRoot().resolve("tuning").resolve("tuning-store.json");
    }

    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /**
     * The lock schedulers sharing this store decide under: one scheduler per session, several sessions in a JVM (Spark
     * tasks beside a driver), and a near-tie measured by two of them at once could be decided two ways (and the two
     * would disturb each other's timings). Under this lock the second finds the first one's choice stored. Not the
     * store's own monitor, so lookups and flushes do not wait for a measurement.
     */
    public Object decisionLock() {
        return decisionLock;
    }

    /** What went wrong reading the file, if anything; the store then started empty. */
    public synchronized List<String> warnings() {
        return List.copyOf(warnings);
    }

    public synchronized Optional<EfficiencyTable> efficiency(DeviceKey device) {
        return Optional.ofNullable(devices.get(device.toString())).map(DeviceEntry::efficiency);
    }

    public synchronized void putEfficiency(DeviceKey device, EfficiencyTable table) {
        DeviceEntry e = entry(device);
        devices.put(device.toString(), new DeviceEntry(table, e.corrections(), e.choices()));
        lastDevice = null;
        save();
    }

    public synchronized Map<String, Double> corrections(DeviceKey device) {
        return Map.copyOf(entry(device).corrections());
    }

    public synchronized Optional<StoredChoice> choice(DeviceKey device, String key) {
        return Optional.ofNullable(entry(device).choices().get(key));
    }

    /** Records a choice and the corrections it updated, in memory: {@link #flush()} writes them. */
    public synchronized void putChoice(DeviceKey device, String key, StoredChoice choice,
                                       Map<String, Double> corrections) {
        DeviceEntry e = entry(device);
        e.choices().put(key, choice);
        recordedHere.add(device + "\n" + key);
        e.corrections().putAll(corrections);
        dirty = persistent;
    }

    /**
     * Whether the choice for {@code key} was read from the file, written by an earlier process, and not recorded again
     * by this one: a provisional one is then re-checked. Every session of this JVM shares the store, so a choice one
     * of them recorded is never re-checked by another (Spark executors agree with their driver).
     */
    public synchronized boolean recordedEarlier(DeviceKey device, String key) {
        return entry(device).choices().containsKey(key) && !recordedHere.contains(device + "\n" + key);
    }

    /** Whether choices were recorded since the file was last written. */
    public boolean hasUnwrittenChoices() {
        return dirty;
    }

    /** Writes the file if anything was recorded since it was last written (a no-op otherwise: one volatile read). */
    public void flush() {
        if (!dirty) {
            return;
        }
        synchronized (this) {
            if (dirty) {
                save();
            }
        }
    }

    /** How many times this store has written its file (for tests of the batching). */
    public synchronized int writes() {
        return writes;
    }

    public synchronized int choiceCount(DeviceKey device) {
        return entry(device).choices().size();
    }

    private DeviceEntry entry(DeviceKey device) {
        // A scheduler asks with one key object: its text (a concatenation) is made once, not per lookup.
        if (device != lastDevice) {
            lastEntry = devices.computeIfAbsent(device.toString(), k -> new DeviceEntry(null, null, null));
            lastDevice = device;
        }
        return lastEntry;
    }

    private void load() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            Document doc = JSON.readValue(file.toFile(), Document.class);
            if (doc == null || !FORMAT.equals(doc.format()) || doc.version() != FORMAT_VERSION) {
                warn("the tuning store " + file + " is stale or not a tuning store (format "
                        + (doc == null ? null : doc.format() + " v" + doc.version()) + ", expected " + FORMAT + " v"
                        + FORMAT_VERSION + "): ignored, it will be rebuilt");
                return;
            }
            if (doc.devices() != null) {
                doc.devices().forEach((k, v) -> {
                    if (v != null) {
                        devices.put(k, new DeviceEntry(v.efficiency(), v.corrections(), v.choices()));
                    }
                });
            }
        } catch (IOException | RuntimeException e) {
            devices.clear();
            warn("the tuning store " + file + " could not be read (" + e.getClass().getSimpleName() + ": "
                    + firstLine(e.getMessage()) + "): ignored, it will be rebuilt");
        }
    }

    private void save() {
        if (!persistent) {
            return;
        }
        dirty = false;
        writes++;
        try {
            Files.createDirectories(file.getParent());
            Document doc = new Document(FORMAT, FORMAT_VERSION, new TreeMap<>(devices));
            AtomicFiles.replace(file, temporary -> JSON.writeValue(temporary.toFile(), doc));
        } catch (IOException | RuntimeException e) {
            // A read-only cache folder costs the next run its memory, not this run its answer.
            warn("the tuning store " + file + " could not be written (" + e + "): choices stay in memory");
        }
    }

    private void warn(String message) {
        warnings.add(message);
        LOG.log(System.Logger.Level.WARNING, message);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static String now() {
        return Instant.now().toString();
    }
}
