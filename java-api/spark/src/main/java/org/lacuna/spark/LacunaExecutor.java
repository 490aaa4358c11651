package org.lacuna.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one executor JVM holds for Lacuna: one {@link Session} per backend choice and one loaded model per
 * {@link ModelKey}, each made on first use by whichever task thread needs it first, then shared by every task of the
 * JVM until the executor shuts down ({@link LacunaSparkPlugin}, or a JVM shutdown hook where the plugin is not
 * configured). In Spark's local mode the driver is the executor, so this holds the driver JVM's copies.
 *
 * <p>Models are shared, their calls are not: {@link SharedModel#call} runs one batch at a time per model, which is
 * what one device stream (or the CPU backend's own worker pool) can serve; task threads overlap the rest of their
 * work (reading scans, building rows) with it.
 */
public final class LacunaExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(LacunaExecutor.class);

    private static final Map<String, Session> SESSIONS = new LinkedHashMap<>();
    private static final Map<ModelKey, SharedModel<?>> MODELS = new ConcurrentHashMap<>();
    private static final Map<ModelKey, AtomicLong> LOADS = new ConcurrentHashMap<>();
    private static boolean hookInstalled;

    private LacunaExecutor() {
    }

    /**
     * The session for {@code backend} ({@code auto}, {@code cpu} or {@code cuda}), opened on first use. {@code auto}
     * takes the best available backend (CUDA on an executor with a GPU, else the CPU backend).
     */
    static synchronized Session session(String backend) {
        Session session = SESSIONS.get(backend);
        if (session == null || session.isClosed()) {
            session = backend.equals("auto") ? Lacuna.open() : Lacuna.open(backend, 0);
            SESSIONS.put(backend, session);
            installShutdownHook();
            LOG.info("Lacuna session for backend '{}': {} on {} ({})", backend, session.backendName(),
                    session.device().name(), session.backendReason());
        }
        return session;
    }

    /**
     * The model under {@code key}, loaded by {@code loader} on the session of {@code key.backend()} the first time
     * any thread of this JVM asks for it. Threads asking while it loads wait for that one load.
     */
    @SuppressWarnings("unchecked")
    static <M extends AutoCloseable> SharedModel<M> model(ModelKey key, Function<Session, M> loader) {
        return (SharedModel<M>) MODELS.computeIfAbsent(key, k -> {
            Session session = session(k.backend());
            long start = System.nanoTime();
            M model = loader.apply(session);
            LOADS.computeIfAbsent(k, unused -> new AtomicLong()).incrementAndGet();
            LOG.info("Lacuna loaded {} on {} in {} ms", k.describe(), session.backendName(),
                    (System.nanoTime() - start) / 1_000_000);
            return new SharedModel<>(model, session.backendName(), session.device().name());
        });
    }

    /** How many times this JVM has loaded the model under {@code key} (1 after any number of tasks). */
    public static long modelLoads(ModelKey key) {
        AtomicLong loads = LOADS.get(key);
        return loads == null ? 0 : loads.get();
    }

    /** Loads of every model by this JVM since it started (or since the last {@link #closeAll}). */
    public static long modelLoads() {
        return LOADS.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** The models this JVM holds now. */
    public static Set<ModelKey> loadedModels() {
        return Set.copyOf(MODELS.keySet());
    }

    /** The backends ({@code cpu}, {@code cuda}) this JVM's sessions run on, with their device names. */
    public static synchronized Set<String> backends() {
        Set<String> names = new TreeSet<>();
        for (Session session : SESSIONS.values()) {
            if (!session.isClosed()) {
                names.add(session.backendName() + " (" + session.device().name() + ")");
            }
        }
        return names;
    }

    /**
     * Closes every model, then every session. Called at executor shutdown; the next task to need a model loads it
     * again. Must not race tasks still running (Spark calls the plugin's shutdown after its tasks have ended).
     */
    public static void closeAll() {
        List<SharedModel<?>> models;
        List<Session> sessions;
        synchronized (LacunaExecutor.class) {
            models = new ArrayList<>(MODELS.values());
            MODELS.clear();
            LOADS.clear();
            sessions = new ArrayList<>(SESSIONS.values());
            SESSIONS.clear();
        }
        for (SharedModel<?> model : models) {
            try {
                model.close();
            } catch (Exception e) {
                LOG.warn("Lacuna: closing a model failed", e);
            }
        }
        for (Session session : sessions) {
            try {
                session.close();
            } catch (RuntimeException e) {
                LOG.warn("Lacuna: closing a session failed", e);
            }
        }
    }

    private static void installShutdownHook() {
        if (!hookInstalled) {
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(new Thread(LacunaExecutor::closeAll, "lacuna-executor-shutdown"));
        }
    }
}
