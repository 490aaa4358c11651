package org.lacuna.runtime.schedule;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.lacuna.runtime.internal.AtomicFiles;

/**
 * The scheduler's memory across runs: per device ({@link DeviceKey}), its {@link EfficiencyTable}, the correction
 * each kernel's predictions earned from measurements, and every choice by layer signature. One JSON file (Jackson),
 * replaced atomically so that concurrent JVMs never read half a file. Choices are kept in memory (where every
 * session of the JVM on this store shares them at once) and written behind: a model's forward that made choices
 * hands the file's write to a background writer ({@link #flushLater()}, a few microseconds on the forward), which
 * coalesces the requests that come while one is queued into one write of everything recorded by then; the first
 * such write of a JVM costs it its JSON machinery (about 140 ms on the 2-vCPU development machine, against a 10 ms
 * forward; ad hoc, not kept as a record), which no forward waits for. {@link #flush()} writes now (a plan asked for, a session closing), and a
 * shutdown hook writes what is still unwritten when the JVM exits normally. A process that dies before the write
 * loses only its newest choices, which the next process makes again. A file that is corrupt, truncated, of another
 * format version or unreadable is ignored with a warning (kept in {@link #warnings()}) and rebuilt by the next
 * write: never fatal. Thread-safe.
 */
public final class TuningStore {
    /** Bumped whenever the meaning of a stored field changes: older files are then stale and ignored. */
    public static final int FORMAT_VERSION = 2;
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
     * @param cutRechecks the re-checks of later processes that the trial budget cut before both candidates had a
     *                    sample, which left the choice as it was ({@link Scheduler#MAX_CUT_RECHECKS}); absent: none
     */
    public record StoredChoice(String chosen, String policy, Decision.Source source, List<String> candidates,
                               Map<String, Double> predictedMillis, Map<String, Double> measuredMillis,
                               String recorded, String measuring, Boolean provisional, Integer cutRechecks) {
        /** A confirmed choice. */
        public StoredChoice(String chosen, String policy, Decision.Source source, List<String> candidates,
                            Map<String, Double> predictedMillis, Map<String, Double> measuredMillis,
                            String recorded, String measuring) {
            this(chosen, policy, source, candidates, predictedMillis, measuredMillis, recorded, measuring, null);
        }

        /** A choice, provisional or not, that no re-check has yet left as it was. */
        public StoredChoice(String chosen, String policy, Decision.Source source, List<String> candidates,
                            Map<String, Double> predictedMillis, Map<String, Double> measuredMillis,
                            String recorded, String measuring, Boolean provisional) {
            this(chosen, policy, source, candidates, predictedMillis, measuredMillis, recorded, measuring, provisional,
                    null);
        }

        /** Whether the choice is provisional (to be re-checked by a later process). */
        public boolean provisionalChoice() {
            return Boolean.TRUE.equals(provisional);
        }

        /** How many later processes' re-checks the trial budget cut with this choice left as it was. */
        public int cutRecheckCount() {
            return cutRechecks == null ? 0 : cutRechecks;
        }

        /**
         * This choice after one more re-check cut before both candidates had a sample: counted, and confirmed once
         * {@code limit} such re-checks have left it standing.
         */
        StoredChoice afterCutRecheck(int limit) {
            int cut = cutRecheckCount() + 1;
            return new StoredChoice(chosen, policy, source, candidates, predictedMillis, measuredMillis, recorded,
                    measuring, cut < limit ? provisional : null, cut);
        }
    }

    /**
     * Everything stored for one device.
     *
     * @param kernels the fingerprint of the kernels it was measured with ({@link #KERNELS}); an entry measured with
     *                other kernels (or, from an older file, with none named) is dropped when the file is read
     */
    public record DeviceEntry(EfficiencyTable efficiency, Map<String, Double> corrections,
                              Map<String, StoredChoice> choices, String kernels) {
        public DeviceEntry {
            corrections = corrections == null ? new TreeMap<>() : new TreeMap<>(corrections);
            choices = choices == null ? new TreeMap<>() : new TreeMap<>(choices);
        }
    }

    /**
     * The kernels this build serves with: a hash of their sources, made at build time ({@code KernelBuild}), and the
     * JDK's feature release, whose JIT compiles the Vector API kernels. Rates, corrections and choices measured with
     * other kernels say nothing of these (a faster GEMM would stay unchosen behind choices stored before it), so a
     * device's entry is kept only under the fingerprint it was measured with. Two builds sharing one cache folder
     * therefore measure again each time the other has written it: the price of never serving stale choices.
     */
    public static final String KERNELS = KernelBuild.FINGERPRINT + "-jdk" + Runtime.version().feature();

    /** The file's whole content. */
    public record Document(String format, int version, Map<String, DeviceEntry> devices) {
    }

    /** The writer of every store that {@link #open} made: one daemon thread, started on the first write behind. */
    private static final class Writer {
        static final java.util.concurrent.Executor EXECUTOR = java.util.concurrent.Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("lacuna-tuning-store-writer").factory());
        /**
         * Stores opened on a file ({@link #open(Path)}) holding choices not yet written: the shutdown hook writes
         * them, whether or not a write behind was requested.
         */
        static final java.util.Set<TuningStore> PENDING = java.util.concurrent.ConcurrentHashMap.newKeySet();

        static {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
                for (TuningStore store : PENDING) {
                    store.flush();
                }
            }));
        }

        /**
         * Initialises this class (its executor, which starts no thread before a write, and the shutdown hook): what
         * a store opened on a file does, so that the first choice it records does not pay it (2.4 ms, the dearest
         * step of the first decision a cold store's trial completed on the 2-vCPU development machine, in a JVM whose
         * earlier schedulers had stores in memory only; ad hoc, not kept as a record).
         */
        static void ready() {
        }
    }

    private final Path file;
    /** Runs the writes behind ({@link #flushLater()}); tests pass one that runs them when told. */
    private final java.util.concurrent.Executor writer;
    /** A write behind is queued and has not started: later requests join it. */
    private final java.util.concurrent.atomic.AtomicBoolean writeQueued = new java.util.concurrent.atomic.AtomicBoolean();
    /** Held while a snapshot is taken and written: writes reach the file in the order their snapshots were taken. */
    private final Object writing = new Object();
    /** A snapshot is being written: {@link #flush()} waits for it (the file is not yet what the store holds). */
    private volatile boolean writingFile;
    private final Map<String, DeviceEntry> devices = new TreeMap<>();
    private final List<String> warnings = new ArrayList<>();
    private final boolean persistent;
    private final Object decisionLock = new Object();
    /** The choices recorded by this process (device, then key): the others were read from the file. */
    private final java.util.Set<RecordedKey> recordedHere = new java.util.HashSet<>();

    /** A choice's place in the store: no text concatenated per lookup. */
    private record RecordedKey(DeviceKey device, String key) {
        // Written out, not generated: see DeviceKey#equals.
        @Override
        public boolean equals(Object o) {
            return o instanceof RecordedKey k && device.equals(k.device) && key.equals(k.key);
        }

        @Override
        public int hashCode() {
            return 31 * device.hashCode() + key.hashCode();
        }
    }
    /** Choices or corrections recorded since the last write. */
    private volatile boolean dirty;
    private int writes;
    /** The device {@link #entry} last looked up (by identity) and its entry. */
    private DeviceKey lastDevice;
    private DeviceEntry lastEntry;

    private TuningStore(Path file, java.util.concurrent.Executor writer) {
        this.file = file;
        this.writer = writer;
        this.persistent = file != null;
        if (persistent) {
            if (writer == null) {
                Writer.ready();
            }
            load();
        }
    }

    /** The store in {@code file}, read now (a missing file is an empty store). */
    public static TuningStore open(Path file) {
        return new TuningStore(java.util.Objects.requireNonNull(file, "file"), null);
    }

    /**
     * The store in {@code file} whose writes behind run on {@code writer} (tests: one that runs them when told, or
     * never, as a process that dies before its write).
     */
    static TuningStore open(Path file, java.util.concurrent.Executor writer) {
        return new TuningStore(java.util.Objects.requireNonNull(file, "file"),
                java.util.Objects.requireNonNull(writer, "writer"));
    }

    /** A store that lives in memory only (tests, {@code predicted-only} runs that must not touch disk). */
    public static TuningStore inMemory() {
        return new TuningStore(null, null);
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

    /** Records the device's table and writes the file now (a calibration is rare and takes seconds anyway). */
    public void putEfficiency(DeviceKey device, EfficiencyTable table) {
        synchronized (this) {
            DeviceEntry e = entry(device);
            devices.put(device.toString(), new DeviceEntry(table, e.corrections(), e.choices(), KERNELS));
            lastDevice = null;
            markUnwritten();
        }
        flush();
    }

    public synchronized Map<String, Double> corrections(DeviceKey device) {
        return Map.copyOf(entry(device).corrections());
    }

    public synchronized Optional<StoredChoice> choice(DeviceKey device, String key) {
        return Optional.ofNullable(entry(device).choices().get(key));
    }

    /** Every choice stored for {@code device}, by layer signature (a copy). */
    public synchronized Map<String, StoredChoice> choices(DeviceKey device) {
        return Map.copyOf(entry(device).choices());
    }

    /** Records a choice and the corrections it updated, in memory: {@link #flush()} writes them. */
    public synchronized void putChoice(DeviceKey device, String key, StoredChoice choice,
                                       Map<String, Double> corrections) {
        DeviceEntry e = entry(device);
        e.choices().put(key, choice);
        recordedHere.add(new RecordedKey(device, key));
        if (!corrections.isEmpty()) {
            e.corrections().putAll(corrections);
        }
        markUnwritten();
    }

    /**
     * Marks what was recorded as unwritten (the caller holds the store's lock, as {@link #write} does when it takes
     * its snapshot and leaves the hook's set): a store on a file then waits in the shutdown hook's set until written.
     * A store with a writer of its own (tests) never joins it.
     */
    private void markUnwritten() {
        dirty = persistent;
        if (persistent && writer == null) {
            Writer.PENDING.add(this);
        }
    }

    /**
     * Whether the choice for {@code key} was read from the file, written by an earlier process, and not recorded again
     * by this one: a provisional one is then re-checked. Every session of this JVM shares the store, so a choice one
     * of them recorded is never re-checked by another (Spark executors agree with their driver).
     */
    public synchronized boolean recordedEarlier(DeviceKey device, String key) {
        return entry(device).choices().containsKey(key) && !recordedHere.contains(new RecordedKey(device, key));
    }

    /** Whether choices were recorded since the file was last written. */
    public boolean hasUnwrittenChoices() {
        return dirty;
    }

    /**
     * Writes the file now if anything was recorded since it was last written (a no-op otherwise: one volatile read),
     * after any write behind already under way.
     */
    public void flush() {
        if (!dirty && !writingFile) {
            return;
        }
        write();
    }

    /**
     * Has the background writer write the file soon if anything was recorded since it was last written: what a
     * forward that made choices calls at its end, so that no forward waits for the disk. A request while one is
     * queued joins it (the queued write takes everything recorded by the time it starts). A no-op when nothing is
     * unwritten (one volatile read).
     */
    public void flushLater() {
        if (!dirty || !writeQueued.compareAndSet(false, true)) {
            return;
        }
        Runnable task = () -> {
            writeQueued.set(false);
            write();
        };
        try {
            (writer != null ? writer : Writer.EXECUTOR).execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            task.run();
        }
    }

    /** Whether a write behind has been requested and has not started. */
    public boolean writeQueued() {
        return writeQueued.get();
    }

    /** Takes a snapshot of what is unwritten and writes it (the disk outside the store's lock: lookups go on). */
    private void write() {
        synchronized (writing) {
            Document doc;
            synchronized (this) {
                if (!dirty) {
                    return;
                }
                dirty = false;
                Writer.PENDING.remove(this); // under the lock markUnwritten holds: a later choice joins again
                writingFile = true;
                writes++;
                // A deep enough copy: each entry's maps are copied, the choices themselves are immutable.
                Map<String, DeviceEntry> copy = new TreeMap<>();
                devices.forEach((k, v) -> copy.put(k, new DeviceEntry(v.efficiency(), v.corrections(), v.choices(),
                        v.kernels())));
                doc = new Document(FORMAT, FORMAT_VERSION, copy);
            }
            try {
                writeFile(doc);
            } finally {
                writingFile = false;
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
            lastEntry = devices.computeIfAbsent(device.toString(), k -> new DeviceEntry(null, null, null, KERNELS));
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
                List<String> otherKernels = new ArrayList<>();
                doc.devices().forEach((k, v) -> {
                    if (v != null && KERNELS.equals(v.kernels())) {
                        devices.put(k, new DeviceEntry(v.efficiency(), v.corrections(), v.choices(), v.kernels()));
                    } else if (v != null) {
                        otherKernels.add(k + " (kernels " + v.kernels() + ")");
                    }
                });
                if (!otherKernels.isEmpty()) {
                    warn("the tuning store " + file + " holds what was measured with other kernels than this build's ("
                            + KERNELS + ") for " + otherKernels + ": ignored, measured again");
                }
            }
        } catch (IOException | RuntimeException e) {
            devices.clear();
            warn("the tuning store " + file + " could not be read (" + e.getClass().getSimpleName() + ": "
                    + firstLine(e.getMessage()) + "): ignored, it will be rebuilt");
        }
    }

    private void writeFile(Document doc) {
        try {
            Files.createDirectories(file.getParent());
            AtomicFiles.replace(file, temporary -> JSON.writeValue(temporary.toFile(), doc));
        } catch (IOException | RuntimeException e) {
            // A read-only cache folder costs the next run its memory, not this run its answer.
            synchronized (this) {
                warn("the tuning store " + file + " could not be written (" + e + "): choices stay in memory");
            }
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

    /**
     * The time a choice is recorded, to the second: formatted once per second, not per choice (formatting an instant is
     * the dearest step of recording a choice in a JVM that has not compiled it yet), by {@link #isoSecond}.
     */
    static String now() {
        long second = Math.floorDiv(System.currentTimeMillis(), 1000L);
        Stamp last = lastStamp;
        if (last == null || last.second() != second) {
            last = new Stamp(second, isoSecond(second));
            lastStamp = last;
        }
        return last.text();
    }

    /**
     * {@code Instant.ofEpochSecond(epochSecond).toString()} for years 0 to 9999 ({@code 2026-12-06T19:04:41Z}), by
     * arithmetic: {@code Instant.toString} initialises the whole of {@code java.time.format} (about 60 classes, some
     * milliseconds on a cold JVM), which a cold store's first recorded choice would pay.
     */
    static String isoSecond(long epochSecond) {
        long days = Math.floorDiv(epochSecond, 86_400L);
        int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
        // Days to a civil date (proleptic Gregorian; H. Hinnant's days_from_civil inverted).
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097L);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        StringBuilder s = new StringBuilder(20);
        pad(s, year, 4).append('-');
        pad(s, month, 2).append('-');
        pad(s, day, 2).append('T');
        pad(s, secondOfDay / 3600, 2).append(':');
        pad(s, secondOfDay / 60 % 60, 2).append(':');
        return pad(s, secondOfDay % 60, 2).append('Z').toString();
    }

    private static StringBuilder pad(StringBuilder s, long value, int digits) {
        for (long limit = 10; digits > 1; digits--, limit *= 10) {
            if (value < limit) {
                s.append('0');
            }
        }
        return s.append(value);
    }

    private record Stamp(long second, String text) {
    }

    private static volatile Stamp lastStamp;
}
