package org.lacuna.spark;

import com.codahale.metrics.Gauge;
import java.util.Map;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Optional ({@code --conf spark.plugins=org.lacuna.spark.LacunaSparkPlugin}): closes each executor's Lacuna models
 * and sessions when Spark shuts the executor down, rather than at JVM exit, and publishes per executor, in Spark's
 * metrics system under {@code plugin.org.lacuna.spark.LacunaSparkPlugin}, how many models it loaded and on which
 * backends they run.
 */
public final class LacunaSparkPlugin implements SparkPlugin {
    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(PluginContext context, Map<String, String> extraConf) {
                context.metricRegistry().register("modelLoads", (Gauge<Long>) LacunaExecutor::modelLoads);
                context.metricRegistry().register("backends",
                        (Gauge<String>) () -> String.join(", ", LacunaExecutor.backends()));
            }

            @Override
            public void shutdown() {
                LacunaExecutor.closeAll();
            }
        };
    }
}
